import Foundation
import Logging
import Metrics
import PostgresNIO

/// Stories in PostgreSQL (`stories`), and every change to them: each one a single transaction that
/// locks the row, checks the version the writer read, applies the workflow, and writes the story,
/// its revision and its audit event together.
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

    /// Where a page ends: the newest-first order is (created_at, id) descending, so stories
    /// created while a client pages through never shift the pages it has yet to read.
    public struct Cursor: Equatable, Sendable {
        public var createdAt: Date
        public var id: UUID

        public init(createdAt: Date, id: UUID) {
            self.createdAt = createdAt
            self.id = id
        }

        /// Opaque to clients: microseconds since 1970 and the id.
        public var token: String {
            let micros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
            return Data("\(micros)/\(id.uuidString.lowercased())".utf8).base64EncodedString()
        }

        public init(token: String) throws {
            guard let data = Data(base64Encoded: token),
                let parts = Optional(String(decoding: data, as: UTF8.self).split(separator: "/")),
                parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1]))
            else { throw WiredeskError.malformed(field: "cursor", "not a cursor this server issued") }
            self.createdAt = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            self.id = id
        }
    }

    public struct Page: Sendable {
        public var stories: [Story]
        public var next: Cursor?
    }

    public func list(state: StoryState? = nil, after cursor: Cursor? = nil, limit: Int = 50, logger: Logger)
        async throws -> Page
    {
        guard (1...500).contains(limit) else { throw WiredeskError.malformed(field: "limit", "expected 1 to 500") }
        // Compare at microsecond precision, as stored; the cursor carries microseconds.
        let micros = cursor.map { Int64(($0.createdAt.timeIntervalSince1970 * 1_000_000).rounded()) }
        let rows = try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM stories
            WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
              AND (\(micros)::bigint IS NULL
                   OR (created_at, id) < (to_timestamp(\(micros)::bigint / 1000000.0), \(cursor?.id)))
            ORDER BY created_at DESC, id DESC
            LIMIT \(limit + 1)
            """,
            logger: logger)
        var stories = try rows.map(Self.decode)
        var next: Cursor?
        if stories.count > limit {
            stories.removeLast()
            next = stories.last.map { Cursor(createdAt: $0.createdAt, id: $0.id) }
        }
        return Page(stories: stories, next: next)
    }

    // MARK: Writing

    public func create(_ content: StoryContent, by principal: Principal, logger: Logger) async throws -> Story {
        try Workflow.checkCreate(by: principal)
        try content.validate()
        let contentText = String(decoding: try JSONCoding.encode(content), as: UTF8.self)
        let id = UUID()
        return try await database.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO stories (id, state, version, content, created_by, updated_by)
                VALUES (\(id), 'draft', 1, \(contentText)::jsonb, \(principal.name), \(principal.name))
                RETURNING \(unescaped: Self.columns)
                """,
                logger: logger)
            var created: Story?
            for try await row in rows { created = try Self.decode(row) }
            guard let story = created else { throw WiredeskError(.notFound, "story was not created") }
            let diff = FieldDiff.between(try JSONValue(encoding: StoryContent()), try JSONValue(encoding: content))
            try await Revisions.append(story, diff: diff, on: connection, logger: logger)
            try await AuditLog.append(
                AuditEntry(
                    principal: principal, action: "create", storyID: id, toState: .draft, version: 1, diff: diff),
                on: connection, logger: logger)
            return story
        }
    }

    /// Applies a JSON merge patch (RFC 7386) to the story's content. A patch that changes nothing
    /// writes nothing and returns the story as it is.
    public func edit(
        _ id: UUID, patch: JSONValue, ifVersion: Int, by principal: Principal, logger: Logger
    ) async throws -> Story {
        try await write(id, ifVersion: ifVersion, by: principal, logger: logger) { story, _ in
            let state = try Workflow.checkEdit(story, by: principal)
            let content = try story.content.applying(patch)
            guard content != story.content else { return nil }
            var changed = story
            changed.content = content
            changed.state = state
            return (changed, "edit", nil)
        }
    }

    /// Moves the story through the workflow. `patch` is the content edit a correction carries and
    /// is refused for every other transition.
    public func transition(
        _ id: UUID, _ transition: Transition, reason: String? = nil, patch: JSONValue? = nil, ifVersion: Int,
        by principal: Principal, logger: Logger
    ) async throws -> Story {
        // A blank reason is no reason: the workflow then names the rule that needs one.
        let reason = reason.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        var v = Validator()
        v.text(reason, "reason", max: Limits.reason)
        try v.finish()
        if patch != nil, transition != .correct {
            throw WiredeskError.malformed(field: "patch", "only a correction carries a content patch")
        }
        let story = try await write(id, ifVersion: ifVersion, by: principal, logger: logger) { story, now in
            let content = try patch.map(story.content.applying) ?? story.content
            let proposal = Workflow.Proposal(story: story, content: content, reason: reason, now: now)
            var changed = story
            changed.state = try Workflow.check(transition, proposal, by: principal)
            changed.content = content
            switch transition {
            case .correct:
                changed.corrections.append(Correction(version: story.version + 1, note: reason ?? "", at: now))
            case .kill:
                changed.killNotice = reason
            default:
                break
            }
            return (changed, transition.rawValue, reason)
        }
        Counter(label: "wiredesk_transitions_total", dimensions: [("transition", transition.rawValue)]).increment()
        return story
    }

    /// The one write path: lock, check the version, decide, then write story, revision and audit
    /// event in the same transaction. `decide` returns nil when there is nothing to write.
    private func write(
        _ id: UUID, ifVersion: Int, by principal: Principal, logger: Logger,
        _ decide: @escaping @Sendable (Story, Date) throws -> (story: Story, action: String, reason: String?)?
    ) async throws -> Story {
        try await database.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns), now() FROM stories WHERE id = \(id) FOR UPDATE",
                logger: logger)
            var locked: (Story, Date)?
            for try await row in rows {
                locked = (try Self.decode(row), try row.makeRandomAccess()[11].decode(Date.self))
            }
            guard let (current, now) = locked else { throw WiredeskError.storyNotFound(id) }
            guard current.version == ifVersion else {
                throw WiredeskError.staleVersion(expected: ifVersion, current: current.version)
            }
            guard var (proposed, action, reason) = try decide(current, now) else { return current }
            proposed.version = current.version + 1
            proposed.updatedBy = principal.name
            let contentChanged = proposed.content != current.content
            let story = try await Self.update(proposed, contentChanged: contentChanged, on: connection, logger: logger)

            var diff: [FieldChange]?
            if contentChanged {
                let changes = FieldDiff.between(
                    try JSONValue(encoding: current.content), try JSONValue(encoding: story.content))
                try await Revisions.append(story, diff: changes, on: connection, logger: logger)
                diff = changes
            }
            try await AuditLog.append(
                AuditEntry(
                    principal: principal, action: action, storyID: id, fromState: current.state,
                    toState: story.state, version: story.version, diff: diff, reason: reason),
                on: connection, logger: logger)
            return story
        }
    }

    // MARK: SQL

    static let columns = """
        id, state, version, content::text, created_at, created_by, updated_at, updated_by, published_at, \
        corrections::text, kill_notice
        """

    /// Writes the story and returns it as stored: the content column only when it changed, and
    /// times from the database clock (the first publication sets `published_at`; corrections
    /// keep it).
    private static func update(
        _ story: Story, contentChanged: Bool, on connection: PostgresConnection, logger: Logger
    ) async throws -> Story {
        let content = contentChanged ? String(decoding: try JSONCoding.encode(story.content), as: UTF8.self) : nil
        let corrections = String(decoding: try JSONCoding.encode(story.corrections), as: UTF8.self)
        let rows = try await connection.query(
            """
            UPDATE stories SET state = \(story.state.rawValue), version = \(story.version),
                content = COALESCE(\(content)::jsonb, content), updated_at = now(), updated_by = \(story.updatedBy),
                published_at = CASE WHEN \(story.state.rawValue) = 'published' THEN COALESCE(published_at, now())
                                    ELSE published_at END,
                corrections = \(corrections)::jsonb, kill_notice = \(story.killNotice)
            WHERE id = \(story.id)
            RETURNING updated_at, published_at
            """,
            logger: logger)
        for try await (updatedAt, publishedAt) in rows.decode((Date, Date?).self) {
            var stored = story
            stored.updatedAt = updatedAt
            stored.publishedAt = publishedAt
            return stored
        }
        throw WiredeskError.storyNotFound(story.id)
    }

    private static func decode(_ row: PostgresRow) throws -> Story {
        let (
            id, state, version, content, createdAt, createdBy, updatedAt, updatedBy, publishedAt, corrections,
            killNotice
        ) =
            try row.decode((UUID, String, Int, String, Date, String, Date, String, Date?, String, String?).self)
        let decoder = JSONCoding.decoder()
        return Story(
            id: id, state: StoryState(rawValue: state) ?? .draft, version: version,
            content: try decoder.decode(StoryContent.self, from: Data(content.utf8)),
            createdAt: createdAt, createdBy: createdBy, updatedAt: updatedAt, updatedBy: updatedBy,
            publishedAt: publishedAt,
            corrections: try decoder.decode([Correction].self, from: Data(corrections.utf8)),
            killNotice: killNotice)
    }
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
        let content = try JSONValue(encoding: self).merging(patch).decode(as: StoryContent.self)
        try content.validate()
        return content
    }
}
