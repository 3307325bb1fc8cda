import Foundation
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// Stories in PostgreSQL (`stories`), and the one path every change to them takes: create, edit,
/// transition and the agency's wire updates alike. The workflow decides; then story, revision,
/// feed entry and audit event are written by one statement, which is one transaction, so they
/// commit or vanish together.
public struct StoryStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Reading

    public func story(_ id: UUID, logger: Logger) async throws -> Story {
        let rows = try await database.rows(
            "SELECT \(unescaped: Self.columns) FROM stories WHERE id = \(id)", logger: logger)
        guard let row = rows.first else { throw WiredeskError.storyNotFound(id) }
        return try Self.decode(row)
    }

    /// The story as the API sends it (the `Story` schema), as PostgreSQL wrote it from the row when
    /// the row was written (`rendered`, migration 0012), and its version: a read sends the stored
    /// text as it is.
    public func rendered(_ id: UUID, logger: Logger) async throws -> RenderedStory {
        let rows = try await database.rows(try Prepared<Rendered>(Self.rendered(id)), logger: logger)
        guard let (version, json) = try rows.first?.decode((Int, ByteBuffer).self) else {
            throw WiredeskError.storyNotFound(id)
        }
        return RenderedStory(version: version, json: json)
    }

    private static func rendered(_ id: UUID) -> SQL {
        "SELECT version, rendered FROM stories WHERE id = \(id)"
    }

    private enum Rendered: StatementShape {
        static let name = "story_rendered"
        static let text = StoryStore.rendered(UUID()).shapeText
    }

    // MARK: Writing

    public func create(_ content: StoryContent, by principal: Principal, logger: Logger) async throws -> Story {
        try Workflow.checkCreate(by: principal)
        return try await insert(content, by: principal, reason: nil, on: database, logger: logger)
    }

    /// A draft made from agency copy, inside the ingest's own transaction, on the desk `route`
    /// sends it to (the create event's reason says which rule).
    func ingested(
        _ content: StoryContent, reason: String, route: DeskStore.Route?, by principal: Principal,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Story {
        try Workflow.checkIngest(by: principal)
        return try await insert(
            content, desk: route?.desk, by: principal, reason: [reason, route?.explanation].compactMap { $0 }.joined(separator: "; "),
            on: connection, logger: logger)
    }

    /// Moves the story to a desk, to a person, or both (`Assignment`); the trail records an
    /// `assign` event with what changed. An assignment that changes nothing writes nothing.
    public func assign(
        _ id: UUID, _ assignment: Assignment, reason: String? = nil, ifVersion: Int, by principal: Principal,
        logger: Logger
    ) async throws -> Story {
        let reason = try Self.reason(reason)
        try assignment.checkNotEmpty()
        try Workflow.checkAssign(by: principal)
        try await DeskStore(database: database).checkAssignable(assignment, logger: logger)
        return try await change(id, ifVersion: ifVersion, light: true, on: database, logger: logger) { story, _ in
            let changed = assignment.applied(to: story)
            guard changed != story else { return nil }
            return Change(
                previous: story, story: changed, action: "assign", reason: reason, by: principal,
                diff: Assignment.diff(from: story, to: changed))
        }
    }

    /// Applies a JSON merge patch (RFC 7386) to the story's content; `reason`, when given, is
    /// recorded on the edit's audit event. A patch that changes nothing writes nothing and returns
    /// the story as it is.
    public func edit(
        _ id: UUID, patch: JSONValue, reason: String? = nil, ifVersion: Int, by principal: Principal, logger: Logger
    ) async throws -> Story {
        let reason = try Self.reason(reason)
        return try await change(id, ifVersion: ifVersion, on: database, logger: logger) { story, _ in
            // The patch first: input wrong in itself is refused as such, before who may edit what.
            let content = try story.content.applying(patch)
            let state = try Workflow.checkEdit(story, to: content, by: principal)
            guard content != story.content else { return nil }
            var changed = story
            changed.content = content
            changed.state = state
            return Change(previous: story, story: changed, action: "edit", reason: reason, by: principal)
        }
    }

    /// Moves the story through the workflow. `patch` is the content edit a correction carries and
    /// is refused for every other transition.
    public func transition(
        _ id: UUID, _ transition: Transition, reason: String? = nil, patch: JSONValue? = nil, ifVersion: Int,
        by principal: Principal, logger: Logger
    ) async throws -> Story {
        let reason = try Self.reason(reason)
        if patch != nil, transition != .correct {
            throw WiredeskError.invalid(field: "patch", "only a correction carries a content patch")
        }
        let story = try await change(id, ifVersion: ifVersion, light: patch == nil, on: database, logger: logger) {
            story, now in
            let content = try patch.map(story.content.applying) ?? story.content
            let proposal = Workflow.Proposal(story: story, content: content, reason: reason, now: now)
            var changed = story
            let decision = try Workflow.check(transition, proposal, by: principal)
            changed.state = decision.to
            changed.content = content
            if decision.overridden.contains(.embargoLifted) {
                // Published before its time on purpose: the copy that goes out is not embargoed.
                changed.content.embargo = nil
            }
            switch transition {
            case .correct:
                changed.corrections.append(Correction(version: story.version + 1, note: reason ?? "", at: now))
            case .kill:
                changed.killNotice = reason
            default:
                break
            }
            return Change(previous: story, story: changed, action: transition.rawValue, reason: reason, by: principal)
        }
        Counter(label: "wiredesk_transitions_total", dimensions: [("transition", transition.rawValue)]).increment()
        return story
    }

    /// Why a change was made, as the trail records it: running text of at most `Limits.reason`.
    /// A blank reason is no reason (nil): for a transition that needs one, the workflow then names
    /// the rule. Checked before anything is read or written.
    public static func reason(_ text: String?) throws -> String? {
        let reason = text.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        var v = Validator()
        v.text(reason, "reason", max: Limits.reason)
        try v.finish()
        return reason
    }

    /// A newer version of an agency item, recorded on the story it fed as a `wire-update` whose
    /// diff is what the agency changed (`previous` to `incoming`). The new text replaces the
    /// story's only while the story is still the agency's untouched draft; once someone has
    /// changed it, the update is recorded and their text stays. Inside the ingest's transaction;
    /// returns whether the text was applied.
    func wireUpdate(
        _ id: UUID, previous: StoryContent, incoming: StoryContent, agencyVersion: String?, by principal: Principal,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        let applied = Mutex(false)
        _ = try await change(id, ifVersion: nil, on: connection, logger: logger) { story, _ in
            let untouched = story.state == .draft && story.content == previous
            var changed = story
            changed.state = try Workflow.checkWireUpdate(story, applying: untouched, by: principal)
            if untouched { changed.content = incoming }
            let version = agencyVersion.map { " (agency version \($0))" } ?? ""
            let reason =
                untouched
                ? "agency update\(version) applied"
                : "agency update\(version) not applied: the story has been edited or moved on since the agency's last version"
            let agencyDiff = FieldDiff.between(try JSONValue(encoding: previous), try JSONValue(encoding: incoming))
            applied.withLock { $0 = untouched }
            return Change(
                previous: story, story: changed, action: "wire-update", reason: reason, by: principal, diff: agencyDiff)
        }
        return applied.withLock { $0 }
    }

    // MARK: The one write path

    /// A change the workflow allowed: the story as it is to be stored, and what the trail says.
    private struct Change: Sendable {
        /// nil for a new story.
        var previous: Story?
        var story: Story
        var action: String
        var reason: String?
        var by: Principal
        /// What the trail records as changed, when it is not the content's own diff (a wire update
        /// records the agency's).
        var diff: [FieldChange]?
    }

    private func insert(
        _ content: StoryContent, desk: String? = nil, by principal: Principal, reason: String?, on runner: some SQLRunner,
        logger: Logger
    ) async throws -> Story {
        let story = Story(
            id: UUID.random(), state: .draft, version: 1, content: content, createdAt: Date(), createdBy: principal.name,
            updatedAt: Date(), updatedBy: principal.name, publishedAt: nil, corrections: [], killNotice: nil, desk: desk)
        let change = Change(previous: nil, story: story, action: "create", reason: reason, by: principal)
        let statement = try await Offload.run {
            try content.validate()
            return try Self.statement(change)
        }
        guard let stored = try Self.stored(change, try await statement.run(on: runner, logger: logger)) else {
            throw WiredeskError(.notFound, "story was not created")
        }
        return stored
    }

    /// Reads the story (locking it inside a transaction), lets `decide` apply the workflow, checks
    /// the version the writer read (`ifVersion`; nil inside a transaction that holds the lock), then
    /// writes. Input that is wrong in itself is refused as such whatever version it names; any
    /// other request on a stale version is refused as stale. Outside a transaction the write is one
    /// statement that applies only if the story is still at the version read: a racing writer's statement changes nothing and
    /// is refused as stale. `decide` returns nil when there is nothing to write. `light`: `decide`
    /// patches and diffs nothing, so for a story of at most `inlineBytes` it runs where it is.
    private func change(
        _ id: UUID, ifVersion: Int?, light: Bool = false, on runner: some SQLRunner, logger: Logger,
        _ decide: @escaping @Sendable (Story, Date) throws -> Change?
    ) async throws -> Story {
        let read =
            if ifVersion == nil {
                try await runner.rows(try Prepared<Locked>(Self.read(id, lock: true)), logger: logger)
            } else {
                try await runner.rows(try Prepared<Unlocked>(Self.read(id, lock: false)), logger: logger)
            }
        guard let row = read.first else { throw WiredeskError.storyNotFound(id) }
        let cells = row.makeRandomAccess()
        let now = try cells[13].decode(Date.self)
        // Decoding, patching, validating and diffing a large story is CPU work: off the event
        // loops. A small one's transition costs less than the two thread switches would.
        @Sendable func decideAll() throws -> (Story, Result<(Change, Write)?, any Error>) {
            let current = try Self.decode(row)
            let decided = Result { () throws -> (Change, Write)? in
                guard let change = try decide(current, now) else { return nil }
                return (change, try Self.statement(change))
            }
            return (current, decided)
        }
        let small = (cells[3].bytes?.readableBytes ?? 0) <= Self.inlineBytes
        let (current, decided) = light && small ? try decideAll() : try await Offload.run(.general, decideAll)
        if let ifVersion, current.version != ifVersion {
            // Input wrong in itself is refused as such; otherwise the writer's view is stale, and
            // what the workflow says of the story as it is now is not an answer to its request.
            if case .failure(let error as WiredeskError) = decided, error.kind == .malformed || error.kind == .validation {
                throw error
            }
            throw WiredeskError.staleVersion(expected: ifVersion, current: current.version)
        }
        guard let (change, statement) = try decided.get() else { return current }
        guard let stored = try Self.stored(change, try await statement.run(on: runner, logger: logger)) else {
            // Another writer got there between our read and our write.
            let now = try await runner.rows("SELECT version FROM stories WHERE id = \(id)", logger: logger)
            let version = try now.first?.decode(Int.self) ?? current.version
            throw WiredeskError.staleVersion(expected: ifVersion ?? current.version, current: version)
        }
        return stored
    }

    /// The most stored content a light change decodes on the event loop (about 150 µs of CPU at
    /// the Almaty story's 7 KB).
    public static let inlineBytes = 64 << 10

    /// What a change reads first: the story as it is and the database's time; `lock` inside a
    /// transaction that holds the row until it commits. Two shapes, each prepared.
    private static func read(_ id: UUID, lock: Bool) -> SQL {
        "SELECT \(unescaped: columns), now() FROM stories WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")"
    }

    private enum Unlocked: StatementShape {
        static let name = "story_change_read"
        static let text = StoryStore.read(UUID(), lock: false).shapeText
    }

    private enum Locked: StatementShape {
        static let name = "story_change_read_locked"
        static let text = StoryStore.read(UUID(), lock: true).shapeText
    }

    /// A change's one statement, and which of the five texts a write can have it is: a new story,
    /// or an update with or without a revision and with or without a feed entry.
    private struct Write: Sendable {
        var sql: SQL
        var creates: Bool
        var revision: Bool
        var entry: Bool

        /// Runs as a prepared statement: planning the write afresh each time was a fifth of
        /// PostgreSQL's time for a transition.
        func run(on runner: some SQLRunner, logger: Logger) async throws -> [PostgresRow] {
            switch (creates, revision, entry) {
            case (true, _, _): try await runner.rows(try Prepared<Create>(sql), logger: logger)
            case (false, false, false): try await runner.rows(try Prepared<Update>(sql), logger: logger)
            case (false, true, false): try await runner.rows(try Prepared<UpdateRevision>(sql), logger: logger)
            case (false, false, true): try await runner.rows(try Prepared<UpdateEntry>(sql), logger: logger)
            case (false, true, true): try await runner.rows(try Prepared<UpdateRevisionEntry>(sql), logger: logger)
            }
        }

        /// The text of a write of this kind, from a change that makes one.
        static func text(creates: Bool = false, revision: Bool = true, entry: Bool = false) -> String {
            let principal = Principal(name: "", role: .admin, source: .api)
            let before = Story(
                id: UUID(), state: .draft, version: 1, content: StoryContent(), createdAt: Date(), createdBy: "",
                updatedAt: Date(), updatedBy: "", publishedAt: nil, corrections: [], killNotice: nil)
            var after = before
            if revision { after.content.headline = "" }
            let change = Change(
                previous: creates ? nil : before, story: after, action: entry ? "publish" : "edit", reason: nil,
                by: principal)
            return (try? statement(change).sql.shapeText) ?? ""
        }
    }

    private enum Create: StatementShape {
        static let name = "story_create"
        static let text = Write.text(creates: true)
    }

    private enum Update: StatementShape {
        static let name = "story_update"
        static let text = Write.text(revision: false)
    }

    private enum UpdateRevision: StatementShape {
        static let name = "story_update_revision"
        static let text = Write.text(revision: true)
    }

    private enum UpdateEntry: StatementShape {
        static let name = "story_update_entry"
        static let text = Write.text(revision: false, entry: true)
    }

    private enum UpdateRevisionEntry: StatementShape {
        static let name = "story_update_revision_entry"
        static let text = Write.text(revision: true, entry: true)
    }

    /// Story, revision (when the content changed), feed entry (for a publish, correction or kill)
    /// and audit event, as one statement.
    private static func statement(_ change: Change) throws -> Write {
        let story = change.story
        let p = change.by
        let corrections = String(decoding: try JSONCoding.encode(story.corrections), as: UTF8.self)
        let write: SQL
        let version: Int
        var contentDiff: [FieldChange]?
        // Each document is encoded once: the text that is stored is also what the diff reads.
        func encoded(_ content: StoryContent) throws -> (text: String, value: JSONValue) {
            let data = try JSONCoding.encode(content)
            return (String(decoding: data, as: UTF8.self), try JSONValue(parsing: data))
        }
        if let previous = change.previous {
            version = previous.version + 1
            var contentText: String?
            // Only a revision reads the content back (a story's text is detoasted to be returned), and
            // only a change of the copy names the column: the search index's trigger fires on an
            // update OF content, and a transition then costs it nothing.
            if story.content != previous.content {
                let (text, value) = try encoded(story.content)
                contentDiff = FieldDiff.between(try encoded(previous.content).value, value)
                contentText = text
            }
            write = """
                UPDATE stories SET state = \(story.state.rawValue),
                    version = \(version)\(contentText.map { (text: String) -> SQL in ", content = \(text)::jsonb" } ?? ""),
                    updated_at = now(), updated_by = \(p.name),
                    published_at = CASE WHEN \(story.state.rawValue) = 'published' THEN COALESCE(published_at, now())
                                        ELSE published_at END,
                    corrections = \(corrections)::jsonb, kill_notice = \(story.killNotice), desk = \(story.desk),
                    assignee = \(story.assignee)
                WHERE id = \(story.id) AND version = \(previous.version)
                RETURNING id, version, state, \(unescaped: contentText == nil ? "" : "content, ")created_at, updated_at,
                    published_at
                """
        } else {
            version = 1
            let (contentText, value) = try encoded(story.content)
            contentDiff = FieldDiff.between(try encoded(StoryContent()).value, value)
            write = """
                INSERT INTO stories (id, state, version, content, created_by, updated_by, desk)
                VALUES (\(story.id), 'draft', 1, \(contentText)::jsonb, \(p.name), \(p.name), \(story.desk))
                RETURNING id, version, state, content, created_at, updated_at, published_at
                """
        }
        let recorded = change.diff ?? contentDiff
        let event = AuditEntry(
            principal: p, action: change.action, storyID: story.id, fromState: change.previous?.state,
            toState: story.state, version: version, diff: recorded, reason: change.reason)
        // The revision and the event usually record the same diff (a whole story for a create):
        // encoded once for both.
        let contentDiffText = try contentDiff.map { String(decoding: try JSONCoding.encode($0), as: UTF8.self) }
        let revision: SQL =
            if let contentDiffText {
                ", revision AS (\(Revisions.insert(diff: contentDiffText, by: p.name, from: "story")))"
            } else {
                ""
            }
        let entry: SQL =
            if let kind = FeedItem.Kind(change.action) {
                ", entry AS (\(try FeedStore.insert(story, version: version, kind: kind, after: "story")))"
            } else {
                ""
            }
        let sql: SQL = """
            WITH story AS (\(write))\(revision)\(entry),
            event AS (\(try AuditLog.insert(event, diff: change.diff == nil ? contentDiffText : nil, after: "story")))
            SELECT created_at, updated_at, published_at FROM story
            """
        return Write(
            sql: sql, creates: change.previous == nil, revision: contentDiffText != nil,
            entry: FeedItem.Kind(change.action) != nil)
    }

    /// The story as written, or nil when the statement wrote nothing (a stale version).
    private static func stored(_ change: Change, _ rows: [PostgresRow]) throws -> Story? {
        guard let (createdAt, updatedAt, publishedAt) = try rows.first?.decode((Date, Date, Date?).self) else {
            return nil
        }
        var story = change.story
        story.version = (change.previous?.version ?? 0) + 1
        story.createdAt = createdAt
        story.updatedAt = updatedAt
        story.updatedBy = change.by.name
        story.publishedAt = publishedAt
        return story
    }

    // MARK: SQL

    /// The content is decoded from the stored rendering, which holds it beside the server's
    /// fields (ignored when decoding what the server stored): it is text already, where
    /// `content::text` had PostgreSQL print the jsonb again.
    static let columns = """
        id, state, version, rendered, created_at, created_by, updated_at, updated_by, published_at, \
        corrections::text, kill_notice, desk, assignee
        """

    static func decode(_ row: PostgresRow) throws -> Story {
        try decodeMeasured(row).story
    }

    /// The story and the size of its JSON as sent, for pages that stop before they grow too large.
    private static func decodeMeasured(_ row: PostgresRow) throws -> (story: Story, bytes: Int) {
        let (
            id, state, version, rendered, createdAt, createdBy, updatedAt, updatedBy, publishedAt, corrections,
            killNotice, desk, assignee
        ) =
            try row.decode(
                (UUID, String, Int, String, Date, String, Date, String, Date?, String, String?, String?, String?).self)
        let decoder = JSONCoding.decoder(stored: true)
        let story = Story(
            id: id, state: StoryState(rawValue: state) ?? .draft, version: version,
            content: try decoder.decode(StoryContent.self, from: Data(rendered.utf8)),
            createdAt: createdAt, createdBy: createdBy, updatedAt: updatedAt, updatedBy: updatedBy,
            publishedAt: publishedAt,
            corrections: try decoder.decode([Correction].self, from: Data(corrections.utf8)),
            killNotice: killNotice, desk: desk, assignee: assignee)
        return (story, rendered.utf8.count)
    }
}

/// A story as the API's JSON, ready to send, and the version it is (its ETag).
public struct RenderedStory: Sendable {
    public var version: Int
    public var json: ByteBuffer
}

extension StoryContent {
    /// The content after a JSON merge patch (RFC 7386), validated.
    public func applying(_ patch: JSONValue) throws -> StoryContent {
        guard case .object(let fields) = patch else {
            throw WiredeskError.malformed(field: "", "a patch must be a JSON object")
        }
        if let key = fields.keys.sorted().first(where: { Story.ServerKeys(rawValue: $0) != nil }) {
            throw WiredeskError.malformed(field: key, "set by the server; it cannot be edited")
        }
        // Checked here, not only when the result is decoded: removing a field no story has
        // (`{"": null}`) leaves nothing behind to refuse.
        try Self.refuseUnknown(fields, known: { CodingKeys(rawValue: $0) != nil })
        if case .object(let dateline)? = fields["dateline"] {
            try Self.refuseUnknown(dateline, in: "dateline.", known: { Dateline.CodingKeys(rawValue: $0) != nil })
        }
        let content = try JSONValue(encoding: self).merging(patch).decode(as: StoryContent.self)
        try content.validate()
        return content
    }

    /// `malformed`, naming the first key (in order) that `known` does not know, `""` for the empty one.
    private static func refuseUnknown(
        _ fields: [String: JSONValue], in parent: String = "", known: (String) -> Bool
    ) throws {
        if let key = fields.keys.sorted().first(where: { !known($0) }) {
            throw WiredeskError.malformed(field: parent + (key.isEmpty ? #""""# : key), "unknown field")
        }
    }
}
