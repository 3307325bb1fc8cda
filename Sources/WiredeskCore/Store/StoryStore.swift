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
                parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])),
                // Only times a story can have been created: a forged one past year 9999 would not
                // survive the trip back to microseconds.
                (0...253_402_300_799_999_999).contains(micros)
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
        let id = UUID()
        let rows = try await database.rows(try Self.insert(id: id, content: content, by: principal), logger: logger)
        return try Self.created(id: id, content: content, by: principal, rows: rows)
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

    /// The one write path. Read the story, check the version the writer read, let the workflow
    /// decide, then write story, revision and audit event in one statement that applies only if the
    /// story is still at that version: the row lock the UPDATE takes and its re-checked WHERE make a
    /// racing writer's statement change nothing, and it is refused as stale. One statement is one
    /// transaction, so the three rows commit or vanish together. `decide` returns nil when there is
    /// nothing to write.
    private func write(
        _ id: UUID, ifVersion: Int, by principal: Principal, logger: Logger,
        _ decide: @escaping @Sendable (Story, Date) throws -> (story: Story, action: String, reason: String?)?
    ) async throws -> Story {
        let read = try await database.rows(
            "SELECT \(unescaped: Self.columns), now() FROM stories WHERE id = \(id)", logger: logger)
        guard let row = read.first else { throw WiredeskError.storyNotFound(id) }
        let current = try Self.decode(row)
        let now = try row.makeRandomAccess()[11].decode(Date.self)
        guard current.version == ifVersion else {
            throw WiredeskError.staleVersion(expected: ifVersion, current: current.version)
        }
        guard let (story, action, reason) = try decide(current, now) else { return current }
        let update = try Self.update(current, to: story, action: action, reason: reason, by: principal)
        let rows = try await database.rows(update.query, logger: logger)
        guard let stored = try update.stored(rows) else {
            // Another writer got there between our read and our write.
            let now = try await database.rows("SELECT version FROM stories WHERE id = \(id)", logger: logger)
            let version = try now.first?.decode(Int.self) ?? current.version
            throw WiredeskError.staleVersion(expected: ifVersion, current: version)
        }
        return stored
    }

    // MARK: Statements, shared with ingest

    /// A new draft with its first revision and its `create` event, as one statement.
    static func insert(id: UUID, content: StoryContent, by p: Principal, reason: String? = nil) throws -> PostgresQuery {
        let contentText = String(decoding: try JSONCoding.encode(content), as: UTF8.self)
        let diff = FieldDiff.between(try JSONValue(encoding: StoryContent()), try JSONValue(encoding: content))
        let diffText = String(decoding: try JSONCoding.encode(diff), as: UTF8.self)
        return """
            WITH story AS (
                INSERT INTO stories (id, state, version, content, created_by, updated_by)
                VALUES (\(id), 'draft', 1, \(contentText)::jsonb, \(p.name), \(p.name))
                RETURNING id, content, created_at),
            revision AS (
                INSERT INTO revisions (story_id, number, version, state, content, diff, created_at, created_by)
                SELECT id, 1, 1, 'draft', content, \(diffText)::jsonb, created_at, \(p.name) FROM story),
            event AS (
                INSERT INTO audit_events
                    (at, actor, actor_role, source, request_id, story_id, action, to_state, version, diff, reason)
                SELECT created_at, \(p.name), \(p.role.rawValue), \(p.source.rawValue), \(p.requestID), id, 'create',
                       'draft', 1, \(diffText)::jsonb, \(reason)
                FROM story)
            SELECT created_at FROM story
            """
    }

    static func created(id: UUID, content: StoryContent, by p: Principal, rows: [PostgresRow]) throws -> Story {
        guard let createdAt = try rows.first?.decode(Date.self) else {
            throw WiredeskError(.notFound, "story was not created")
        }
        return Story(
            id: id, state: .draft, version: 1, content: content, createdAt: createdAt, createdBy: p.name,
            updatedAt: createdAt, updatedBy: p.name, publishedAt: nil, corrections: [], killNotice: nil)
    }

    /// The statement that moves `current` to `proposed` (the next version) with its revision, when
    /// the content changed, and its audit event; it changes nothing unless the story is still at
    /// `current.version`. `diff` overrides the recorded diff (a wire update records the agency's).
    static func update(
        _ current: Story, to proposed: Story, action: String, reason: String?, by p: Principal,
        diff recorded: [FieldChange]? = nil
    ) throws -> (query: PostgresQuery, stored: ([PostgresRow]) throws -> Story?) {
        var story = proposed
        story.version = current.version + 1
        story.updatedBy = p.name
        let contentChanged = story.content != current.content
        var diff = recorded
        var contentText: String?
        if contentChanged {
            if diff == nil {
                diff = FieldDiff.between(try JSONValue(encoding: current.content), try JSONValue(encoding: story.content))
            }
            contentText = String(decoding: try JSONCoding.encode(story.content), as: UTF8.self)
        }
        let diffText = try diff.map { String(decoding: try JSONCoding.encode($0), as: UTF8.self) }
        let corrections = String(decoding: try JSONCoding.encode(story.corrections), as: UTF8.self)
        let id = story.id
        let query: PostgresQuery = """
            WITH updated AS (
                UPDATE stories SET state = \(story.state.rawValue), version = \(story.version),
                    content = COALESCE(\(contentText)::jsonb, content), updated_at = now(), updated_by = \(p.name),
                    published_at = CASE WHEN \(story.state.rawValue) = 'published' THEN COALESCE(published_at, now())
                                        ELSE published_at END,
                    corrections = \(corrections)::jsonb, kill_notice = \(story.killNotice)
                WHERE id = \(id) AND version = \(current.version)
                RETURNING id, version, state, content, updated_at, published_at),
            revision AS (
                INSERT INTO revisions (story_id, number, version, state, content, diff, created_at, created_by)
                SELECT id, (SELECT COALESCE(max(number), 0) + 1 FROM revisions WHERE story_id = \(id)), version, state,
                       content, \(diffText)::jsonb, updated_at, \(p.name)
                FROM updated WHERE \(contentChanged)),
            event AS (
                INSERT INTO audit_events
                    (at, actor, actor_role, source, request_id, story_id, action, from_state, to_state, version, diff, reason)
                SELECT updated_at, \(p.name), \(p.role.rawValue), \(p.source.rawValue), \(p.requestID), id, \(action),
                       \(current.state.rawValue), state, version, \(diffText)::jsonb, \(reason)
                FROM updated)
            SELECT updated_at, published_at FROM updated
            """
        let stored = { (rows: [PostgresRow]) throws -> Story? in
            guard let (updatedAt, publishedAt) = try rows.first?.decode((Date, Date?).self) else { return nil }
            story.updatedAt = updatedAt
            story.publishedAt = publishedAt
            return story
        }
        return (query, stored)
    }

    // MARK: SQL

    static let columns = """
        id, state, version, content::text, created_at, created_by, updated_at, updated_by, published_at, \
        corrections::text, kill_notice
        """

    static func decode(_ row: PostgresRow) throws -> Story {
        let (
            id, state, version, content, createdAt, createdBy, updatedAt, updatedBy, publishedAt, corrections,
            killNotice
        ) =
            try row.decode((UUID, String, Int, String, Date, String, Date, String, Date?, String, String?).self)
        let decoder = JSONCoding.decoder(stored: true)
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
