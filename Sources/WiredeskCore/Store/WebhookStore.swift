import Foundation
import Logging
import PostgresNIO

/// Webhook endpoints and where each one's delivery stands (`webhooks`, migration 0011). Admins
/// add, enable and remove endpoints (audited); the server's worker (`WebhookWorker`) records
/// each delivery and failure here, so that any server can take over where another stopped.
public struct WebhookStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public enum State: String, Codable, Sendable {
        case active, disabled
    }

    /// An endpoint as an operator sees it (never its secret).
    public struct Endpoint: Codable, Sendable, Equatable {
        public var id: Int64
        public var url: String
        public var state: State
        public var createdAt: Date
        public var createdBy: String
        /// The feed cursor of the last entry the endpoint acknowledged (`0-0`: none yet).
        public var after: String
        /// Entries released in the feed and not yet acknowledged.
        public var pending: Int
        public var delivered: Int64
        public var lastSuccessAt: Date?
        /// Failed attempts since the last success.
        public var attempts: Int
        public var failingSince: Date?
        public var lastAttemptAt: Date?
        public var lastError: String?
        /// When the next attempt is due, while failing.
        public var retryAt: Date?
        public var disabledAt: Date?
    }

    /// What the worker needs to deliver to one endpoint.
    public struct Target: Sendable {
        public var id: Int64
        public var url: String
        public var secret: WebhookSecret
        public var after: FeedStore.Cursor
    }

    // MARK: Administration

    /// Adds an endpoint. It is sent what is published from now on, or with `fromStart` the whole
    /// feed. Returns it and its secret (generated when none is given), which is shown only now.
    public func add(
        url: String, secret: String?, fromStart: Bool = false, by principal: Principal, logger: Logger
    ) async throws -> (endpoint: Endpoint, secret: String) {
        try UserStore.checkAdmin(principal, to: "manage webhooks")
        try Self.validate(url: url)
        let secret = try secret.map(WebhookSecret.init) ?? .generate()
        let start = fromStart ? FeedStore.Cursor.start : try await FeedStore(database: database).head(logger: logger)
        let id = try await database.transaction(logger: logger) { connection in
            let rows = try await connection.rows(
                """
                INSERT INTO webhooks (url, secret, created_by, after_txid, after_id)
                VALUES (\(url), \(secret.text), \(principal.name), \(String(start.txid))::text::xid8, \(start.id))
                RETURNING id
                """, logger: logger)
            let id = try rows[0].decode(Int64.self)
            try await AuditLog.record(
                AuditEntry(principal: principal, action: "webhook.add", reason: url, subject: "webhook \(id)"),
                on: connection, logger: logger)
            return id
        }
        return (try await endpoint(id, logger: logger), secret.text)
    }

    public func list(logger: Logger) async throws -> [Endpoint] {
        try await database.rows("SELECT \(unescaped: Self.columns) FROM webhooks w ORDER BY w.id", logger: logger)
            .map(Self.decode)
    }

    public func endpoint(_ id: Int64, logger: Logger) async throws -> Endpoint {
        let rows = try await database.rows(
            "SELECT \(unescaped: Self.columns) FROM webhooks w WHERE w.id = \(id)", logger: logger)
        guard let row = rows.first else { throw Self.notFound(id) }
        return try Self.decode(row)
    }

    /// Sends to a disabled endpoint again, from the entry it stopped at.
    public func enable(_ id: Int64, by principal: Principal, logger: Logger) async throws -> Endpoint {
        try await change(id, "webhook.enable", by: principal, logger: logger) {
            """
            UPDATE webhooks SET state = 'active', attempts = 0, failing_since = NULL, retry_at = NULL,
                disabled_at = NULL
            WHERE id = \(id) RETURNING id
            """
        }
        return try await endpoint(id, logger: logger)
    }

    public func remove(_ id: Int64, by principal: Principal, logger: Logger) async throws {
        try await change(id, "webhook.remove", by: principal, logger: logger) {
            "DELETE FROM webhooks WHERE id = \(id) RETURNING id"
        }
    }

    private func change(
        _ id: Int64, _ action: String, by principal: Principal, logger: Logger, _ statement: @Sendable () -> SQL
    ) async throws {
        try await AuditLog.adminChange(
            statement(), action: action, subject: "webhook \(id)", managing: "webhooks", notFound: Self.notFound(id),
            by: principal, database: database, logger: logger)
    }

    static func validate(url: String) throws {
        guard url.utf8.count <= 2000, HTTPURL.parse(url) != nil else {
            throw WiredeskError.invalid(field: "url", "expected an http:// or https:// URL with a host, got \(url.prefix(200))")
        }
    }

    private static func notFound(_ id: Int64) -> WiredeskError {
        WiredeskError(.notFound, "no webhook \(id); `wiredesk webhook list` shows them")
    }

    // MARK: Delivery

    /// Active endpoints whose next attempt is due, with what delivering to them needs.
    public func due(logger: Logger) async throws -> [Target] {
        try await database.rows(
            """
            SELECT id, url, secret, after_txid::text, after_id FROM webhooks
            WHERE state = 'active' AND (retry_at IS NULL OR retry_at <= now())
            ORDER BY id
            """, logger: logger
        ).map { row in
            let (id, url, secret, txid, after) = try row.decode((Int64, String, String, String, Int64).self)
            return Target(
                id: id, url: url, secret: try WebhookSecret(secret),
                after: FeedStore.Cursor(txid: UInt64(txid) ?? 0, id: after))
        }
    }

    /// How long until the next retry of a failing endpoint falls due; nil when none is failing.
    public func nextRetry(logger: Logger) async throws -> Duration? {
        let rows = try await database.rows(
            """
            SELECT (extract(epoch FROM min(retry_at) - now()) * 1000)::bigint FROM webhooks
            WHERE state = 'active' AND retry_at IS NOT NULL
            """, logger: logger)
        return try rows.first?.decode(Int64?.self).map { .milliseconds(max(0, $0)) }
    }

    /// Records that the endpoint acknowledged the entry at `entry`, the next after `after`.
    /// False when the endpoint has changed meanwhile (removed, disabled, or moved on by another
    /// worker): the caller stops sending to it.
    public func delivered(_ id: Int64, after: FeedStore.Cursor, entry: FeedStore.Cursor, logger: Logger) async throws
        -> Bool
    {
        let rows = try await database.rows(
            """
            UPDATE webhooks SET after_txid = \(String(entry.txid))::text::xid8, after_id = \(entry.id),
                delivered = delivered + 1, last_success_at = now(), last_attempt_at = now(), attempts = 0,
                failing_since = NULL, retry_at = NULL
            WHERE id = \(id) AND state = 'active'
              AND after_txid = \(String(after.txid))::text::xid8 AND after_id = \(after.id)
            RETURNING id
            """, logger: logger)
        return !rows.isEmpty
    }

    /// Records a failed attempt at the entry after `after`: the next one waits `retry.initial`, doubled
    /// for the failures so far, and an endpoint failing for longer than `retry.giveUpAfter` is
    /// disabled. Returns the endpoint's state, or nil when it has changed meanwhile.
    @discardableResult
    public func failed(
        _ id: Int64, after: FeedStore.Cursor, error: String, retry: WebhookRetry, logger: Logger
    ) async throws -> State? {
        let message = ControlCharacters.oneLine(error)
        let rows = try await database.rows(
            """
            UPDATE webhooks SET
                attempts = attempts + 1,
                failing_since = coalesce(failing_since, now()),
                last_attempt_at = now(),
                last_error = \(message),
                retry_at = now() + least(\(retry.initial.milliseconds)::float8 * power(2, least(attempts, 40)),
                                         \(retry.maximum.milliseconds)::float8) * interval '1 millisecond',
                state = CASE WHEN coalesce(failing_since, now()) <= now() - \(retry.giveUpAfter.milliseconds) * interval '1 millisecond'
                             THEN 'disabled' ELSE 'active' END,
                disabled_at = CASE WHEN coalesce(failing_since, now()) <= now() - \(retry.giveUpAfter.milliseconds) * interval '1 millisecond'
                                   THEN now() END
            WHERE id = \(id) AND state = 'active'
              AND after_txid = \(String(after.txid))::text::xid8 AND after_id = \(after.id)
            RETURNING state
            """, logger: logger)
        return try rows.first.map { State(rawValue: try $0.decode(String.self)) ?? .active }
    }

    // MARK: Rows

    private static let columns = """
        w.id, w.url, w.state, w.created_at, w.created_by, w.after_txid::text || '-' || w.after_id,
        (SELECT count(*) FROM feed_entries e
         WHERE (e.txid, e.id) > (w.after_txid, w.after_id) AND e.txid < pg_snapshot_xmin(pg_current_snapshot()))::int,
        w.delivered, w.last_success_at, w.attempts, w.failing_since, w.last_attempt_at, w.last_error, w.retry_at,
        w.disabled_at
        """

    private static func decode(_ row: PostgresRow) throws -> Endpoint {
        let row = row.makeRandomAccess()
        return Endpoint(
            id: try row[0].decode(Int64.self), url: try row[1].decode(String.self),
            state: State(rawValue: try row[2].decode(String.self)) ?? .disabled, createdAt: try row[3].decode(Date.self),
            createdBy: try row[4].decode(String.self), after: try row[5].decode(String.self),
            pending: try row[6].decode(Int.self), delivered: try row[7].decode(Int64.self),
            lastSuccessAt: try row[8].decode(Date?.self), attempts: try row[9].decode(Int.self),
            failingSince: try row[10].decode(Date?.self), lastAttemptAt: try row[11].decode(Date?.self),
            lastError: try row[12].decode(String?.self), retryAt: try row[13].decode(Date?.self),
            disabledAt: try row[14].decode(Date?.self))
    }
}

/// How a failing webhook endpoint is retried: after `initial`, doubling with each failure up to
/// `maximum`, until it has failed for `giveUpAfter`, when it is disabled.
public struct WebhookRetry: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var giveUpAfter: Duration

    public init(initial: Duration = .seconds(5), maximum: Duration = .seconds(3600), giveUpAfter: Duration = .seconds(86_400)) {
        self.initial = initial
        self.maximum = maximum
        self.giveUpAfter = giveUpAfter
    }
}
