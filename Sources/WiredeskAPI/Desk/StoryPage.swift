import Foundation
import HTTPTypes
import Hummingbird
import WiredeskCore

/// The story page: the copy in a form, the transitions this user may take now, who else has the
/// story open, and the desk's comments. Saving and moving go through `StoryStore`, as the API's
/// do; a refusal comes back as the page with the rule that refused, and with what was typed.
struct StoryPage {
    let database: Database

    var stories: StoryStore { StoryStore(database: database) }

    struct View {
        var chrome: DeskPages.Chrome
        var id: String
        var title: String
        var state: String
        var stateLabel: String
        var version: Int
        var desk: String
        var assignee: String
        var source: String
        var urgency: String
        var embargo: String?
        var createdBy: String
        var updated: String
        var notice: String?
        var formError: String?
        var conflict: [Change]?
        var conflicted: Bool
        var editable: Bool
        var readonly: Bool
        var correcting: Bool
        var correctionNote: String
        var fields: [Field]
        var pictures: [PictureView]
        var transitions: [TransitionView]
        var stuck: Bool
        var transitionError: Refusal?
        var comments: [CommentView]
        var noComments: Bool
        var commentError: String?
        var comment: String
        var presence: Presence
    }

    struct Field {
        var name: String
        var label: String
        var value: String
        var hint: String?
        var error: String?
        var textarea: Bool
        var rows: Int
        var type: String
        var extra: String?
        /// The ids of the hint and the error, for `aria-describedby`.
        var describedBy: String?

        init(
            _ name: String, _ label: String, _ value: String, hint: String? = nil, errors: [String: String], rows: Int = 0,
            type: String = "text", extra: String? = nil
        ) {
            self.name = name
            self.label = label
            self.value = value
            self.hint = hint
            self.error = errors[name]
            self.textarea = rows > 0
            self.rows = rows
            self.type = type
            self.extra = extra
            let ids = [hint.map { _ in name + "-hint" }, error.map { _ in name + "-error" }].compactMap { $0 }
            describedBy = ids.isEmpty ? nil : ids.joined(separator: " ")
        }
    }

    struct PictureView {
        var number: Int
        var src: String?
        var fields: [Field]
    }

    struct Change {
        var field: String
        var before: String
        var now: String
    }

    struct TransitionView {
        var name: String
        var label: String
        /// The label of the words the rule asks for, if it asks.
        var reasonLabel: String?
    }

    struct Refusal {
        var message: String
        var rule: String?
    }

    struct CommentView {
        var author: String
        var time: String
        var iso: String
        var text: String
    }

    struct Presence {
        var others: [String]
        var nobody: Bool
    }

    /// What the page shows besides the story as stored: a notice, what was typed, what refused.
    struct State {
        var notice: String?
        var form: StoryForm?
        var formErrors: [String: String] = [:]
        var formError: String?
        var conflict: [Change]?
        var transitionError: Refusal?
        var correctionNote = ""
        var comment = ""
        var commentError: String?
    }

    static let labels: [Transition: (button: String, done: String)] = [
        .submit: ("Submit for review", "Submitted for review."), .requestChanges: ("Send back", "Sent back to the reporter."),
        .approve: ("Approve", "Approved."), .reopen: ("Reopen", "Reopened for review."), .publish: ("Publish", "Published."),
        .correct: ("Publish correction", "Correction published."), .kill: ("Kill", "Killed."), .spike: ("Spike", "Spiked."),
        .unspike: ("Unspike", "Back in draft."),
    ]

    static let reasonLabels: [Transition: String] = [
        .requestChanges: "Reason for sending back", .reopen: "Reason for reopening",
        .kill: "Kill notice (goes out with the kill)",
    ]

    static let stateLabels: [StoryState: String] = [
        .draft: "Draft", .inReview: "In review", .approved: "Approved", .published: "Published", .spiked: "Spiked",
        .killed: "Killed",
    ]

    // MARK: Handlers

    func show(_ id: UUID, query: QueryItems) async throws -> Response {
        var state = State()
        if let done = query["done"] {
            state.notice = done == "saved" ? "Saved." : Transition(rawValue: done).flatMap { Self.labels[$0]?.done }
        }
        return try await render(id, state)
    }

    func save(_ id: UUID) async throws -> Response {
        let principal = try DeskScope.principal
        let form = DeskScope.form
        let story = try await read(id)
        guard let version = form["version"].flatMap({ Int($0) }) else {
            throw WiredeskError.malformed(field: "version", "the form has no version: reload the page")
        }
        var state = State()
        state.correctionNote = form["correction_note"] ?? ""
        do {
            guard version == story.version else { throw WiredeskError.staleVersion(expected: version, current: story.version) }
            state.form = StoryForm(form, over: StoryForm(story.content))
            let content = try state.form!.applied(to: story.content)
            let patch = try StoryForm.patch(from: story.content, to: content)
            if story.state == .published {
                _ = try await stories.transition(
                    id, .correct, reason: state.correctionNote, patch: patch, ifVersion: version, by: principal,
                    logger: RequestScope.logger)
                return DeskPages.redirect("/desk/stories/\(Self.text(id))?done=correct")
            }
            _ = try await stories.edit(id, patch: patch, ifVersion: version, by: principal, logger: RequestScope.logger)
            return DeskPages.redirect("/desk/stories/\(Self.text(id))?done=saved")
        } catch let error as WiredeskError where error.currentVersion != nil {
            // Someone saved first. The form keeps what this editor changed since the version they
            // loaded, over the story as it is now; the page shows what the others changed. Saving
            // again then replaces only what this editor changed, knowingly.
            let now = try await read(id).content
            let base =
                try await Revisions.content(asOf: version, of: id, database: database, logger: RequestScope.logger) ?? now
            let typed = StoryForm(form, over: StoryForm(base))
            state.form = typed.rebased(from: StoryForm(base), onto: StoryForm(now))
            state.conflict = try await changes(from: base, to: now)
            return try await render(id, state, status: .conflict)
        } catch let error as WiredeskError where error.kind == .validation || error.kind == .malformed {
            for field in error.fields where state.formErrors[StoryForm.control(for: field.field)] == nil {
                state.formErrors[StoryForm.control(for: field.field)] = field.message
            }
            state.formError = "The story was not saved: " + error.message
            return try await render(id, state, status: .unprocessableContent)
        } catch let error as WiredeskError {
            state.formError = error.message + (error.rule.map { " (rule \($0))" } ?? "")
            return try await render(id, state, status: HTTPResponse.Status(code: Problem(error).status))
        }
    }

    func transition(_ id: UUID, _ name: String) async throws -> Response {
        guard let transition = Transition(rawValue: name), transition != .correct else {
            throw WiredeskError(.notFound, "no transition named \(name.prefix(40))")
        }
        let form = DeskScope.form
        guard let version = form["version"].flatMap({ Int($0) }) else {
            throw WiredeskError.malformed(field: "version", "the form has no version: reload the page")
        }
        do {
            _ = try await stories.transition(
                id, transition, reason: form["reason"], ifVersion: version, by: try DeskScope.principal,
                logger: RequestScope.logger)
            return DeskPages.redirect("/desk/stories/\(Self.text(id))?done=\(transition.rawValue)")
        } catch let error as WiredeskError where error.kind != .notFound && error.kind != .unavailable {
            var state = State()
            let message =
                error.currentVersion != nil
                ? "Someone changed this story since you opened it; it is shown as it is now. Check it, then try again."
                : error.message
            state.transitionError = Refusal(message: message, rule: error.rule)
            return try await render(id, state, status: HTTPResponse.Status(code: Problem(error).status))
        }
    }

    func comment(_ id: UUID) async throws -> Response {
        let text = DeskScope.form["text"] ?? ""
        do {
            _ = try await CommentStore(database: database).add(
                text, to: id, by: try DeskScope.principal, logger: RequestScope.logger)
            return DeskPages.redirect("/desk/stories/\(Self.text(id))#comments")
        } catch let error as WiredeskError where error.kind == .validation || error.kind == .forbidden {
            var state = State()
            state.comment = text
            state.commentError = error.message
            return try await render(id, state, status: HTTPResponse.Status(code: Problem(error).status))
        }
    }

    func presence(_ id: UUID) async throws -> Response {
        _ = try await read(id)
        let others = try await PresenceStore(database: database).here(
            id, by: try DeskScope.principal, logger: RequestScope.logger)
        return try await DeskPages.render(Presence(others: others, nobody: others.isEmpty), "presence")
    }

    // MARK: Rendering

    private func read(_ id: UUID) async throws -> Story {
        try Workflow.checkRead(by: try DeskScope.principal)
        return try await stories.story(id, logger: RequestScope.logger)
    }

    private func render(_ id: UUID, _ state: State, status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try DeskScope.principal
        let story = try await read(id)
        let logger = RequestScope.logger
        let others = try await PresenceStore(database: database).here(id, by: principal, logger: logger)
        let comments = try await CommentStore(database: database).comments(of: id, logger: logger)
        let editable = Workflow.mayEdit(story, by: principal)
        let form = state.form ?? StoryForm(story.content)
        let title = story.content.headline ?? "Untitled story"
        let transitions = Workflow.available(to: principal, on: story).filter { $0 != .correct }.map {
            TransitionView(
                name: $0.rawValue, label: Self.labels[$0]?.button ?? $0.rawValue,
                reasonLabel: Workflow.asksForReason($0) ? Self.reasonLabels[$0] ?? "Reason" : nil)
        }
        let view = View(
            chrome: .init(title), id: Self.text(id), title: title, state: story.state.rawValue,
            stateLabel: Self.stateLabels[story.state] ?? story.state.rawValue, version: story.version,
            desk: story.desk ?? "—", assignee: story.assignee ?? "nobody", source: story.content.source ?? "—",
            urgency: story.content.urgency.map(String.init) ?? "—", embargo: story.content.embargo.map(DeskFormat.time),
            createdBy: story.createdBy, updated: DeskFormat.time(story.updatedAt), notice: state.notice,
            formError: state.formError, conflict: state.conflict, conflicted: state.conflict != nil, editable: editable, readonly: !editable,
            correcting: story.state == .published && editable, correctionNote: state.correctionNote,
            fields: Self.fields(form, errors: state.formErrors),
            pictures: story.content.pictures.enumerated().map { i, picture in
                Self.picture(i, picture, form.pictures.indices.contains(i) ? form.pictures[i] : .init(), state.formErrors)
            },
            transitions: transitions, stuck: transitions.isEmpty,
            transitionError: state.transitionError,
            comments: comments.map {
                CommentView(author: $0.author, time: DeskFormat.time($0.createdAt), iso: JSONCoding.formatDate($0.createdAt), text: $0.text)
            },
            noComments: comments.isEmpty, commentError: state.commentError, comment: state.comment, presence: Presence(others: others, nobody: others.isEmpty))
        return try await DeskPages.render(view, "story", status: status)
    }

    private static func fields(_ form: StoryForm, errors e: [String: String]) -> [Field] {
        [
            Field("headline", "Headline", form.headline, errors: e),
            Field("standfirst", "Standfirst", form.standfirst, errors: e, rows: 3),
            Field("dateline_place", "Dateline place", form.datelinePlace, errors: e),
            Field("dateline_date", "Dateline date", form.datelineDate, hint: "YYYY-MM-DD", errors: e),
            Field("bylines", "Bylines", form.bylines, hint: "One per line: Name, Title", errors: e, rows: 2),
            Field(
                "body", "Body", form.body,
                hint: "Paragraphs are separated by a blank line; a line starting with ## is a crosshead.", errors: e,
                rows: 18),
            Field("slug", "Slug", form.slug, errors: e),
            Field("source", "Source", form.source, hint: "The agency or outlet credited", errors: e),
            Field("creditline", "Credit line", form.creditline, errors: e),
            Field(
                "urgency", "Urgency", form.urgency, hint: "1 (most urgent) to 9", errors: e, type: "number",
                extra: "min=1 max=9"),
            Field(
                "embargo", "Embargo (UTC)", form.embargo, hint: "Not published before this time, in UTC", errors: e,
                type: "datetime-local", extra: "step=1"),
            Field("keywords", "Keywords", form.keywords, hint: "Separated by commas", errors: e),
            Field("ednote", "Editor's note", form.ednote, hint: "For the desk; not published", errors: e, rows: 2),
        ]
    }

    private static func picture(_ index: Int, _ picture: Picture, _ form: StoryForm.PictureFields, _ e: [String: String])
        -> PictureView
    {
        let src = picture.renditions.first { $0.name == "web" || $0.name == "thumb" }?.href
        let name = "picture_\(index)_"
        return PictureView(
            number: index + 1, src: src.flatMap { $0.hasPrefix("https://") || $0.hasPrefix("http://") ? $0 : nil },
            fields: [
                Field(name + "caption", "Caption", form.caption, errors: e, rows: 3),
                Field(name + "creditline", "Credit line", form.creditline, errors: e),
                Field(
                    name + "alt", "Alt text", form.alt, hint: "What the picture shows, for readers who cannot see it",
                    errors: e),
            ])
    }

    /// What others changed between the version an editor loaded and the story as it is now.
    private func changes(from before: StoryContent, to now: StoryContent) async throws -> [Change] {
        let diff = try await Offload.run { FieldDiff.between(try JSONValue(encoding: before), try JSONValue(encoding: now)) }
        return diff.prefix(100).map { Change(field: $0.field, before: Self.show($0.from), now: Self.show($0.to)) }
    }

    static func show(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "—"
        case .string(let text)?: return text
        case let value?:
            return (try? String(decoding: JSONCoding.encode(value), as: UTF8.self)) ?? "—"
        }
    }

    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }
}
