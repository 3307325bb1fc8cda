import Foundation
import Logging
import PostgresNIO

/// What an auditor asks of the whole trail: events by story, actor, action, source, request and
/// time, newest first a page at a time, or all of them in order as a stream.
public struct AuditQuery: Sendable, Equatable {
    public var story: UUID?
    public var actor: String?
    public var action: String?
    public var source: ChangeSource?
    /// From this time on (inclusive), and before that one.
    public var since: Date?
    public var until: Date?
    public var requestID: String?
    /// Only the events of one bulk change.
    public var bulk: UUID?

    public init(
        story: UUID? = nil, actor: String? = nil, action: String? = nil, source: ChangeSource? = nil,
        since: Date? = nil, until: Date? = nil, requestID: String? = nil, bulk: UUID? = nil
    ) {
        self.story = story
        self.actor = actor
        self.action = action
        self.source = source
        self.since = since
        self.until = until
        self.requestID = requestID
        self.bulk = bulk
    }

    /// The filters as people type them, from CLI options or query parameters: text that is not a
    /// story id or an RFC 3339 time is refused, naming the filter.
    public static func parsing(
        story: String?, actor: String?, action: String?, source: ChangeSource?, since: String?, until: String?,
        requestID: String?, bulk: String? = nil
    ) throws -> AuditQuery {
        AuditQuery(
            story: try FilterValue.uuid(story, "story"), actor: try FilterValue.text(actor, "actor"),
            action: try FilterValue.text(action, "action"), source: source, since: try FilterValue.date(since, "since"),
            until: try FilterValue.date(until, "until"), requestID: try FilterValue.text(requestID, "requestId"),
            bulk: try FilterValue.uuid(bulk, "bulk"))
    }

    /// Who may read the whole trail: it names every user's actions, not only one story's.
    public static let readers: Set<Role> = [.auditor, .admin]

    public static func authorize(_ principal: Principal) throws {
        guard readers.contains(principal.role) else {
            throw WiredeskError(
                .forbidden, "\(principal.name) is \(principal.role.rawValue); only auditor and admin may query the audit trail",
                rule: "audit.role")
        }
    }

    /// Where a page ends in the newest-first order (at, id): microseconds and id, `1764…-1042`.
    public struct Cursor: Equatable, Sendable {
        public var micros: Int64
        public var id: Int64

        public var token: String { "\(micros)-\(id)" }

        public init(token: String) throws {
            let bad = WiredeskError.malformed(field: "cursor", "not a cursor this server issued")
            let parts = token.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
            guard parts.count == 2, let micros = ASCII.number(parts[0], maxDigits: 17),
                let id = ASCII.number(parts[1], maxDigits: 18, leadingZero: false), id > 0
            else { throw bad }
            self.micros = micros
            self.id = id
        }

        init(micros: Int64, id: Int64) {
            self.micros = micros
            self.id = id
        }
    }

    public struct Page: Sendable {
        public var events: [AuditEvent]
        public var next: Cursor?
    }

    /// The conditions, each only when asked for, so that PostgreSQL picks the index for it.
    private var conditions: SQL {
        var sql: SQL = "TRUE"
        if let story { sql = "\(sql) AND story_id = \(story)" }
        if let actor { sql = "\(sql) AND actor = \(actor)" }
        if let action { sql = "\(sql) AND action = \(action)" }
        if let source { sql = "\(sql) AND source = \(source.rawValue)" }
        if let since { sql = "\(sql) AND at >= \(since)" }
        if let until { sql = "\(sql) AND at < \(until)" }
        if let requestID { sql = "\(sql) AND request_id = \(requestID)" }
        if let bulk { sql = "\(sql) AND bulk_id = \(bulk)" }
        return sql
    }

    /// A page of matching events, newest first. Past the first event, a page stops before its
    /// diffs pass `maximumBytes`.
    public func page(
        after cursor: Cursor? = nil, limit: Int = 100, maximumBytes: Int = AuditLog.pageBytes, database: Database,
        logger: Logger
    ) async throws -> Page {
        let (events, next) = try await page(
            after: cursor, limit: limit, maximumBytes: maximumBytes, as: .value, database: database, logger: logger)
        return Page(events: events, next: next)
    }

    /// The same page as the API's JSON (see `RenderedPage`).
    public func renderedPage(
        after cursor: Cursor? = nil, limit: Int = 100, maximumBytes: Int = AuditLog.pageBytes, database: Database,
        logger: Logger
    ) async throws -> RenderedPage {
        let writer = EventJSON()
        let (ends, next) = try await page(
            after: cursor, limit: limit, maximumBytes: maximumBytes, as: .json(into: writer), database: database,
            logger: logger)
        return RenderedPage(writer, ends: ends, nextCursor: next?.token)
    }

    private func page<Item>(
        after cursor: Cursor?, limit: Int, maximumBytes: Int, as format: EventFormat<Item>, database: Database,
        logger: Logger
    ) async throws -> (items: [Item], next: Cursor?) {
        guard AuditLog.pageLimit.contains(limit) else {
            throw WiredeskError.malformed(field: "limit", "expected 1 to \(AuditLog.pageLimit.upperBound)")
        }
        // Whole seconds and microseconds apart: a double of all the microseconds would round.
        let position: SQL =
            cursor.map {
                let (seconds, micros) = $0.micros.quotientAndRemainder(dividingBy: 1_000_000)
                return
                    "AND (at, id) < (to_timestamp(\(seconds)::bigint) + \(micros)::bigint * interval '1 microsecond', \($0.id))"
            } ?? ""
        let rows = try await database.rows(
            AuditLog.fetchedPage(
                "SELECT * FROM audit_events WHERE \(conditions) \(position)", order: "at DESC, id DESC", limit: limit,
                maximumBytes: maximumBytes,
                columns: "\(format.columns), (extract(epoch FROM at) * 1000000)::bigint AS position_us, id AS position_id"),
            logger: logger)
        return try KeysetPage.cut(rows, limit: limit, maximumBytes: maximumBytes) { row in
            let (item, size) = try format.read(row)
            let columns = row.makeRandomAccess()
            let cursor = Cursor(
                micros: try columns["position_us"].decode(Int64.self), id: try columns["position_id"].decode(Int64.self))
            return (item, size, cursor, try columns["more"].decode(Bool.self))
        }
    }

    /// Every matching event, oldest first, handed to `body` as it arrives from PostgreSQL: memory
    /// does not grow with the range. One snapshot throughout.
    public func export(
        database: Database, logger: Logger, _ body: @escaping @Sendable (AuditEvent) throws -> Void
    ) async throws {
        let conditions = self.conditions
        try await database.transaction(logger: logger) { connection in
            try await connection.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            let rows = try await connection.stream(
                """
                SELECT \(unescaped: AuditLog.columns) FROM audit_events WHERE \(conditions) ORDER BY at, id
                """,
                logger: logger)
            for try await row in rows {
                try body(try AuditLog.decodeMeasured(row).event)
            }
        }
    }
}
