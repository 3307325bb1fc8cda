import Foundation
import Hummingbird
import WiredeskCore

/// A story's history: the timeline of its audit events, and any two of its revisions side by
/// side with the words that changed marked.
struct HistoryPage {
    let database: Database

    static let eventLimit = 500

    struct TimelineView {
        var chrome: DeskPages.Chrome
        var id: String
        var title: String
        var events: [Event]
        var more: Bool
        var revisions: [Option]
        var toRevisions: [Option]
        var comparable: Bool
    }

    struct Event {
        var time: String
        var iso: String
        var actor: String
        var role: String
        var source: String
        var action: String
        var states: String?
        var reason: String?
        var fields: String?
    }

    struct Option {
        var value: Int
        var label: String
        var selected: Bool
    }

    struct DiffView {
        var chrome: DeskPages.Chrome
        var id: String
        var title: String
        var from: Int
        var to: Int
        var rows: [Row]
        var empty: Bool
    }

    struct Row {
        var field: String
        var old: String
        var new: String
    }

    func timeline(_ id: UUID) async throws -> Response {
        try Workflow.checkRead(by: try DeskScope.principal)
        let logger = RequestScope.logger
        let story = try await StoryStore(database: database).story(id, logger: logger)
        let page = try await AuditLog.history(of: id, limit: Self.eventLimit, database: database, logger: logger)
        let revisions = try await Revisions.summaries(of: id, limit: Revisions.pageLimit.upperBound, database: database, logger: logger)
            .revisions
        func options(selected: Int?) -> [Option] {
            revisions.map {
                Option(
                    value: $0.number, label: "\($0.number) — \(DeskFormat.time($0.createdAt)), \($0.createdBy)",
                    selected: $0.number == selected)
            }
        }
        let view = TimelineView(
            chrome: .init("History — \(story.content.headline ?? "Untitled story")"), id: StoryPage.text(id),
            title: story.content.headline ?? "Untitled story",
            events: page.events.reversed().map { event in
                Event(
                    time: DeskFormat.time(event.at), iso: JSONCoding.formatDate(event.at), actor: event.actor,
                    role: event.actorRole.rawValue, source: event.source.rawValue, action: event.action,
                    states: event.fromState.flatMap { from in
                        event.toState.map { to in from == to ? nil : "\(StoryPage.stateLabels[from] ?? "") → \(StoryPage.stateLabels[to] ?? "")" } ?? nil
                    },
                    reason: event.reason,
                    fields: event.diff.flatMap { diff in
                        let names = Array(Set(diff.map { $0.field.prefix { $0 != "." && $0 != "[" } })).sorted()
                        return names.isEmpty || event.action == "create" ? nil : names.joined(separator: ", ")
                    })
            },
            more: page.next != nil,
            revisions: options(selected: revisions.count > 1 ? revisions[revisions.count - 2].number : revisions.first?.number),
            toRevisions: options(selected: revisions.last?.number), comparable: !revisions.isEmpty)
        return try await DeskPages.render(view, "history")
    }

    func diff(_ id: UUID, query: QueryItems) async throws -> Response {
        try Workflow.checkRead(by: try DeskScope.principal)
        guard let from = query["from"].flatMap({ Int($0) }), let to = query["to"].flatMap({ Int($0) }),
            (1...Int(Int32.max)).contains(from), (1...Int(Int32.max)).contains(to)
        else { throw WiredeskError.malformed(field: "from", "choose two revisions to compare") }
        let logger = RequestScope.logger
        let story = try await StoryStore(database: database).story(id, logger: logger)
        let a = try await Revisions.revision(from, of: id, database: database, logger: logger)
        let b = try await Revisions.revision(to, of: id, database: database, logger: logger)
        let rows = try await Offload.run {
            FieldDiff.between(try JSONValue(encoding: a.content), try JSONValue(encoding: b.content)).map { change in
                let (old, new) = WordDiff.compare(StoryPage.show(change.from), StoryPage.show(change.to))
                return Row(field: change.field, old: Self.html(old, tag: "del"), new: Self.html(new, tag: "ins"))
            }
        }
        let title = story.content.headline ?? "Untitled story"
        return try await DeskPages.render(
            DiffView(
                chrome: .init("Revision \(from) → \(to) — \(title)"), id: StoryPage.text(id), title: title, from: from,
                to: to, rows: rows, empty: rows.isEmpty), "diff")
    }

    /// Runs as HTML, the changed ones in `tag`: the only markup in the text is ours.
    static func html(_ runs: [WordDiff.Run], tag: String) -> String {
        runs.map { $0.changed ? "<\(tag)>\(HTMLText.escape($0.text))</\(tag)>" : HTMLText.escape($0.text) }.joined()
    }
}
