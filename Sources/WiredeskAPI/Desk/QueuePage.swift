import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import WiredeskCore

/// The queue: a tab per state, filtered by desk and assignee, newest or most urgent first, with a
/// search box; the list itself is also served alone (`/desk/queue`) for the page to reload when
/// stories change.
struct QueuePage {
    let database: Database

    static let pageSize = 25
    static let tabs: [(StoryState, String)] = [
        (.draft, "Draft"), (.inReview, "In review"), (.approved, "Approved"), (.published, "Published"),
        (.spiked, "Spiked"),
    ]

    struct View {
        var chrome: DeskPages.Chrome
        var heading: String
        var state: String
        var q: String
        var tabs: [Tab]
        var desks: [Option]
        var assignees: [Option]
        var orders: [Option]
        var results: Results
    }

    struct Tab {
        var label: String
        var href: String
        var current: Bool
    }

    struct Option {
        var value: String
        var label: String
        var selected: Bool
    }

    struct Results {
        var refresh: String
        var caption: String
        var rows: [Row]
        var empty: Bool
        var more: String?
    }

    struct Row {
        var id: String
        var version: Int
        var href: String
        var title: String
        var lead: String?
        var urgency: String
        var embargo: String?
        var embargoISO: String?
        var source: String
        var desk: String
        var assignee: String
        var updated: String
        var updatedISO: String
    }

    /// The page's filters as asked, each checked as the API checks it.
    struct Filters {
        var state: StoryState = .draft
        var q = ""
        var desk = ""
        var assignee = ""
        var order = "newest"
        var cursor: String?

        init(_ uri: URI) throws {
            let query = try QueryItems(uri)
            if let text = query["state"] {
                guard let state = StoryState(rawValue: text), QueuePage.tabs.contains(where: { $0.0 == state }) else {
                    throw WiredeskError.malformed(field: "state", "not one of the queue's tabs: \(text.prefix(40))")
                }
                self.state = state
            }
            q = query["q"] ?? ""
            desk = query["desk"] ?? ""
            assignee = query["assignee"] ?? ""
            order = query["order"] == "urgent" ? "urgent" : "newest"
            cursor = query["cursor"].flatMap { $0.isEmpty ? nil : $0 }
        }

        func storyQuery(for principal: Principal) throws -> StoryQuery {
            let values: [String: String] = [
                "state": state.rawValue, "q": q, "order": order,
                "desk": desk.isEmpty ? nil : desk,
                "assignee": assignee.isEmpty ? nil : assignee == "me" ? principal.name : assignee,
            ].compactMapValues { $0 }
            return try StoryQuery.parsing { values[$0] }
        }

        /// This page's address with `changes` made (nil removes a parameter).
        func href(_ path: String = "/desk", _ changes: [String: String?] = [:]) -> String {
            var items: [(String, String?)] = [
                ("state", state.rawValue), ("q", q), ("desk", desk), ("assignee", assignee), ("order", order),
                ("cursor", cursor),
            ]
            for (key, value) in changes {
                if let index = items.firstIndex(where: { $0.0 == key }) { items[index].1 = value }
            }
            let query = items.compactMap { key, value -> String? in
                guard let value, !value.isEmpty, !(key == "order" && value == "newest") else { return nil }
                return key + "=" + (value.addingPercentEncoding(withAllowedCharacters: .urlQueryValue) ?? "")
            }
            return query.isEmpty ? path : path + "?" + query.joined(separator: "&")
        }
    }

    func page(_ uri: URI) async throws -> Response {
        let principal = try DeskScope.principal
        let filters = try Filters(uri)
        let results = try await results(filters, by: principal)
        let users = try await UserStore(database: database).list(logger: RequestScope.logger)
        let desks = try await DeskStore(database: database).desks(logger: RequestScope.logger)
        let heading = Self.tabs.first { $0.0 == filters.state }?.1 ?? ""
        let view = View(
            chrome: .init("\(heading) — queue"), heading: heading, state: filters.state.rawValue, q: filters.q,
            tabs: Self.tabs.map { state, label in
                Tab(label: label, href: filters.href("/desk", ["state": state.rawValue, "cursor": nil]), current: state == filters.state)
            },
            desks: [Option(value: "", label: "All desks", selected: filters.desk.isEmpty)]
                + [Option(value: "-", label: "No desk", selected: filters.desk == "-")]
                + desks.map { Option(value: $0.name, label: $0.title, selected: $0.name == filters.desk) },
            assignees: [
                Option(value: "", label: "Anyone", selected: filters.assignee.isEmpty),
                Option(value: "me", label: "Me", selected: filters.assignee == "me"),
                Option(value: "-", label: "Nobody", selected: filters.assignee == "-"),
            ]
                + users.filter { $0.disabledAt == nil && Workflow.assignees.contains($0.role) }.map {
                    Option(value: $0.name, label: $0.name, selected: $0.name == filters.assignee)
                },
            orders: [
                Option(value: "newest", label: "Newest first", selected: filters.order == "newest"),
                Option(value: "urgent", label: "Most urgent first", selected: filters.order == "urgent"),
            ],
            results: results)
        return try await DeskPages.render(view, "queue")
    }

    func results(_ uri: URI) async throws -> Response {
        let results = try await results(try Filters(uri), by: try DeskScope.principal)
        return try await DeskPages.render(results, "queue_results")
    }

    private func results(_ filters: Filters, by principal: Principal) async throws -> Results {
        let query = try filters.storyQuery(for: principal)
        let cursor = try filters.cursor.map { try StoryQuery.Cursor(token: $0, order: query.effectiveOrder) }
        // Without words a page is whole stories, whose dateline and lead name an untitled one;
        // with words, summaries carry that lead as a snippet.
        let page = try await StorySearch(database: database).page(
            query, after: cursor, limit: Self.pageSize, full: query.text == nil, by: principal,
            logger: RequestScope.logger)
        let items = page.items
        let rows = try await Offload.run {
            let decoder = JSONCoding.decoder()
            return try items.map { Self.row(try decoder.decode(Item.self, from: Data($0.readableBytesView))) }
        }
        let tab = Self.tabs.first { $0.0 == filters.state }?.1 ?? ""
        return Results(
            refresh: filters.href("/desk/queue"),
            caption: query.text == nil ? "\(tab) stories" : "\(tab) stories matching “\(filters.q)”",
            rows: rows, empty: rows.isEmpty,
            more: page.next.map { filters.href("/desk", ["cursor": $0.token]) })
    }

    /// What a queue row needs of a story or a summary.
    struct Item: Decodable {
        struct Dateline: Decodable { var place: String }
        struct Block: Decodable { var kind: String; var text: String }
        struct Snippets: Decodable { var headline: String?; var lead: String? }
        var id: UUID
        var version: Int
        var headline: String?
        var slug: String?
        var urgency: Int?
        var embargo: Date?
        var source: String?
        var desk: String?
        var assignee: String?
        var updatedAt: Date
        var dateline: Dateline?
        var body: [Block]?
        var snippets: Snippets?
    }

    private static func row(_ item: Item) -> Row {
        // A summary's lead is a snippet, HTML this server escaped and marked: as a title, its text.
        let lead = item.body?.first { $0.kind == "paragraph" }?.text ?? item.snippets?.lead.map(Self.text(ofSnippet:))
        let untitled =
            "Untitled — "
            + [item.dateline?.place, lead.map { Self.firstWords($0, 12) }].compactMap { $0 }.joined(separator: ": ")
        let id = item.id.uuidString.lowercased()
        return Row(
            id: id, version: item.version, href: "/desk/stories/\(id)",
            title: item.headline ?? item.slug ?? untitled,
            lead: item.snippets?.lead,
            urgency: item.urgency.map(String.init) ?? "—", embargo: item.embargo.map(DeskFormat.time),
            embargoISO: item.embargo.map(JSONCoding.formatDate), source: item.source ?? "—", desk: item.desk ?? "—",
            assignee: item.assignee ?? "—", updated: DeskFormat.time(item.updatedAt),
            updatedISO: JSONCoding.formatDate(item.updatedAt))
    }

    static func text(ofSnippet html: String) -> String {
        var text = html.replacingOccurrences(of: "<mark>", with: "").replacingOccurrences(of: "</mark>", with: "")
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        return text
    }

    static func firstWords(_ text: String, _ count: Int) -> String {
        let words = text.split(separator: " ", maxSplits: count, omittingEmptySubsequences: true)
        return words.prefix(count).joined(separator: " ") + (words.count > count ? "…" : "")
    }
}

/// Times as the desk shows them: UTC, to the minute.
enum DeskFormat {
    static func time(_ date: Date) -> String {
        let text = JSONCoding.formatDate(date)
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " UTC"
    }
}

extension CharacterSet {
    /// What a query value may hold unescaped.
    static let urlQueryValue = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
