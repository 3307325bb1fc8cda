import Foundation
import Logging
import PostgresNIO

/// One row of the audit trail: who changed what, when, from where, and why.
public struct AuditEvent: Codable, Equatable, Sendable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var actorRole: Role
    public var source: ChangeSource
    public var requestId: String?
    public var storyId: UUID?
    /// `create`, `edit`, a transition name, or `user.add`, `user.disable`, `token.create`, `token.revoke`.
    public var action: String
    public var fromState: StoryState?
    public var toState: StoryState?
    public var version: Int?
    public var diff: [FieldChange]?
    public var reason: String?
    /// The user or token a user/token event is about.
    public var subject: String?
    /// The bulk change the event is part of: one id for all the stories one bulk call changed.
    public var bulkId: UUID?
}

/// What a change records; the database adds the id and the time.
struct AuditEntry: Sendable {
    var principal: Principal
    var action: String
    var storyID: UUID? = nil
    var fromState: StoryState? = nil
    var toState: StoryState? = nil
    var version: Int? = nil
    var diff: [FieldChange]? = nil
    var reason: String? = nil
    var subject: String? = nil
}

/// The append-only audit trail (`audit_events`). Rows are written inside the statement or
/// transaction of the change they describe, so a change and its event commit or vanish together;
/// the database itself refuses UPDATE, DELETE and TRUNCATE on the table (migration 0001).
public enum AuditLog {
    /// The one statement that writes an event; every change that is audited comes through here.
    /// `after` names the common table expression of the change itself, when the event is part of a
    /// larger statement: the event is then written only if that change wrote its row (a stale
    /// version changes nothing and records nothing). The time is the database's transaction time,
    /// the same `now()` the change itself records.
    /// `diff`: the entry's diff as JSON when the caller has it encoded already.
    static func insert(_ entry: AuditEntry, diff encoded: String? = nil, after change: String? = nil) throws -> SQL {
        let diff = try encoded ?? entry.diff.map { String(decoding: try JSONCoding.encode($0), as: UTF8.self) }
        let condition: SQL = change.map { "WHERE EXISTS (SELECT 1 FROM \(unescaped: $0))" } ?? ""
        return """
            INSERT INTO audit_events
                (actor, actor_role, source, request_id, story_id, action, from_state, to_state, version, diff, reason,
                 subject, bulk_id)
            SELECT \(entry.principal.name), \(entry.principal.role.rawValue), \(entry.principal.source.rawValue),
                   \(entry.principal.requestID), \(entry.storyID), \(entry.action), \(entry.fromState?.rawValue),
                   \(entry.toState?.rawValue), \(entry.version), \(diff)::jsonb, \(entry.reason), \(entry.subject),
                   \(entry.principal.bulkID)
            \(condition)
            """
    }

    /// Records an event on its own, inside the caller's transaction (user and token changes).
    static func record(_ entry: AuditEntry, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.rows(try insert(entry), logger: logger)
    }

    /// An admin's change to something that is not a story (a webhook, a feed): `statement`
    /// returns the row it changed, or none, which is `notFound`; the change and its event commit
    /// together. Anyone but an admin is refused before anything is written.
    static func adminChange(
        _ statement: SQL, action: String, subject: String, managing what: String, notFound: WiredeskError,
        by principal: Principal, database: Database, logger: Logger
    ) async throws {
        try UserStore.checkAdmin(principal, to: "manage \(what)")
        try await database.transaction(logger: logger) { connection in
            guard try await !connection.rows(statement, logger: logger).isEmpty else { throw notFound }
            try await record(AuditEntry(principal: principal, action: action, subject: subject), on: connection, logger: logger)
        }
    }

    public struct HistoryPage: Sendable {
        enum Shape: StatementShape {
            static let name = "audit_history_page"
            static let text =
                historyPage(of: UUID(), before: 1, limit: 1, maximumBytes: 1, columns: AuditLog.columns).shapeText
        }

        public var events: [AuditEvent]
        /// The id to pass as `before` for the next page.
        public var next: Int64?
    }

    public static let pageLimit = 1...500

    /// A page of events stops before it passes this many bytes. A create's diff is the whole story:
    /// a page of creates took 17 ms to answer at 1 MiB, 15 ms at 256 KiB (p95, scripts/bench).
    public static let pageBytes = 64 << 10

    /// A story's events, newest first; `before` is the id of the last event of the previous page.
    /// A page holds at most `limit` events and, past the first, stops before their diffs pass
    /// `maximumBytes`: a diff can be as large as the story, and no answer grows without bound.
    /// `notFound` if there is no such story.
    public static func history(
        of storyID: UUID, before: Int64? = nil, limit: Int = 100, maximumBytes: Int = AuditLog.pageBytes,
        database: Database, logger: Logger
    ) async throws -> HistoryPage {
        let (events, next) = try await history(
            of: storyID, before: before, limit: limit, maximumBytes: maximumBytes, as: .value, database: database,
            logger: logger)
        return HistoryPage(events: events, next: next)
    }

    /// The same page as the API's JSON (see `RenderedPage`).
    public static func renderedHistory(
        of storyID: UUID, before: Int64? = nil, limit: Int = 100, maximumBytes: Int = AuditLog.pageBytes,
        database: Database, logger: Logger
    ) async throws -> RenderedPage {
        let writer = EventJSON()
        let (ends, next) = try await history(
            of: storyID, before: before, limit: limit, maximumBytes: maximumBytes, as: .json(into: writer),
            database: database, logger: logger)
        return RenderedPage(writer, ends: ends, nextCursor: next.map { String($0) })
    }

    private static func history<Item>(
        of storyID: UUID, before: Int64?, limit: Int, maximumBytes: Int, as format: EventFormat<Item>,
        database: Database, logger: Logger
    ) async throws -> (items: [Item], next: Int64?) {
        guard pageLimit.contains(limit) else {
            throw WiredeskError.malformed(field: "limit", "expected 1 to \(pageLimit.upperBound)")
        }
        guard (before ?? 1) > 0 else { throw WiredeskError.malformed(field: "cursor", "not a cursor this server issued") }
        let rows = try await database.rows(
            try Prepared<HistoryPage.Shape>(
                Self.historyPage(
                    of: storyID, before: before ?? Int64.max, limit: limit, maximumBytes: maximumBytes,
                    columns: format.columns)),
            logger: logger)
        if rows.isEmpty {
            // Every story has its create event: none means no story, or a page past the end.
            let story = try await database.rows("SELECT 1 FROM stories WHERE id = \(storyID)", logger: logger)
            if story.isEmpty { throw WiredeskError.storyNotFound(storyID) }
        }
        return try KeysetPage.cut(rows, limit: limit, maximumBytes: maximumBytes) { row in
            let (item, size) = try format.read(row)
            let columns = row.makeRandomAccess()
            return (item, size, try columns["position_id"].decode(Int64.self), try columns["more"].decode(Bool.self))
        }
    }

    /// A page of the story's events before `before`, newest first: the same text for every story
    /// and page, so prepared (`HistoryPage.Shape`).
    private static func historyPage(
        of storyID: UUID, before: Int64, limit: Int, maximumBytes: Int, columns: String
    ) -> SQL {
        fetchedPage(
            "SELECT * FROM audit_events WHERE story_id = \(storyID) AND id < \(before)",
            order: "id DESC", limit: limit, maximumBytes: maximumBytes, columns: "\(columns), id AS position_id")
    }

    /// At most `limit + 1` of the events `select` finds, in `order`, for `KeysetPage.cut` to cut a
    /// page from. Rows stop once their diffs and reasons as stored pass `maximumBytes`: a page of
    /// creates (each diff a whole story) read a hundred stories from the table to send eight.
    /// Stored sizes are compressed, so the exact cut stays with the page; `more` marks the row
    /// after which rows were left out here.
    static func fetchedPage(_ select: SQL, order: String, limit: Int, maximumBytes: Int, columns: String) -> SQL {
        """
        SELECT \(unescaped: columns), before + size > \(maximumBytes) AS more FROM (
            SELECT *, sum(size) OVER (ORDER BY \(unescaped: order) ROWS UNBOUNDED PRECEDING) - size AS before
            FROM (
                SELECT *, 200 + coalesce(pg_column_size(diff), 0) + coalesce(octet_length(reason), 0) AS size
                FROM (\(select) ORDER BY \(unescaped: order) LIMIT \(limit + 1)) AS newest
            ) AS sized
        ) AS audit_events
        WHERE before <= \(maximumBytes)
        ORDER BY \(unescaped: order)
        """
    }

    /// Every event in order, optionally only those about users and tokens.
    public static func events(
        after: Int64 = 0, limit: Int = 1000, database: Database, logger: Logger
    ) async throws -> [AuditEvent] {
        let rows = try await database.rows(
            "SELECT \(unescaped: columns) FROM audit_events WHERE id > \(after) ORDER BY id LIMIT \(limit)",
            logger: logger)
        return try rows.map { try decodeMeasured($0).event }
    }

    static let columns =
        "id, at, actor, actor_role, source, request_id, story_id, action, from_state, to_state, version, diff::text, reason, subject, bulk_id"

    /// The event and the size of its diff and reason as stored.
    static func decodeMeasured(_ row: PostgresRow) throws -> (event: AuditEvent, bytes: Int) {
        let (id, at, actor, role, source, requestID, storyID, action, from, to, version, diff, reason, subject, bulkID) =
            try row.decode(
                (
                    Int64, Date, String, String, String, String?, UUID?, String, String?, String?, Int?, String?,
                    String?, String?, UUID?
                ).self)
        let event = AuditEvent(
            id: id, at: at, actor: actor, actorRole: Role(rawValue: role) ?? .auditor,
            source: ChangeSource(rawValue: source) ?? .cli, requestId: requestID, storyId: storyID,
            action: action, fromState: from.flatMap(StoryState.init), toState: to.flatMap(StoryState.init),
            version: version,
            diff: try diff.map { try JSONCoding.decoder(stored: true).decode([FieldChange].self, from: Data($0.utf8)) },
            reason: reason, subject: subject, bulkId: bulkID)
        return (event, 200 + (diff?.utf8.count ?? 0) + (reason?.utf8.count ?? 0))
    }
}

/// How a page reads its events: as values (the CLI, the Core's callers), or as the API's JSON
/// written from the rows' bytes, for pages that go straight out over HTTP.
struct EventFormat<Item> {
    let columns: String
    /// The item and its size, the measure a page's byte limit counts.
    let read: (PostgresRow) throws -> (Item, Int)

    static var value: EventFormat<AuditEvent> {
        EventFormat<AuditEvent>(columns: AuditLog.columns) { try AuditLog.decodeMeasured($0) }
    }

    /// Each event appended to `writer`; the item is where the writer's buffer ends after it.
    static func json(into writer: EventJSON) -> EventFormat<Int> {
        EventFormat<Int>(columns: AuditLog.columns) { row in
            let start = writer.buffer.writerIndex
            let end = try writer.append(row)
            return (end, end - start)
        }
    }
}

/// A page of audit events as the API's JSON, `{"events":[…],"nextCursor":"…"}` (HistoryPage in
/// openapi.yaml), each event written from its row by `EventJSON`.
public struct RenderedPage: Sendable {
    /// The events, comma-separated.
    var events: ByteBuffer
    public var count: Int
    public var nextCursor: String?

    /// The page's first `ends.count` events of those `writer` holds.
    init(_ writer: EventJSON, ends: [Int], nextCursor: String?) {
        events = writer.buffer.getSlice(at: 0, length: ends.last ?? 0) ?? ByteBuffer()
        count = ends.count
        self.nextCursor = nextCursor
    }

    public var body: ByteBuffer {
        var body = ByteBuffer()
        body.reserveCapacity(events.readableBytes + 64)
        body.writeStaticString(#"{"events":["#)
        body.writeImmutableBuffer(events)
        body.writeStaticString("]")
        if let nextCursor { body.writeString(#","nextCursor":"\#(nextCursor)""#) }
        body.writeStaticString("}")
        return body
    }

    public var json: String { String(buffer: body) }
}
