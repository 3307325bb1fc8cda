import Foundation
import Logging
import PostgresNIO

/// Agency feeds and where each stands (`wire_feeds`, migration 0014). Admins add, pause, resume
/// and remove feeds (audited); the ingest worker records each round here, so that a restart or
/// another server resumes where the last round stopped. A feed's credentials are written here
/// and read only by the worker: nothing an operator or a scraper sees carries them.
public struct WireFeedStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Files dropped into a folder on this machine.
        case folder
        /// A URL polled at an interval: a NewsML-G2 message, an item, or a ninjs list (`items` + `nextCursor`).
        case http
    }

    /// How a feed is read; what `feed add` sets.
    public struct Settings: Sendable, Equatable {
        public var kind: Kind
        public var location: String
        public var ingestAs: String
        public var format: IngestFormat?
        public var interval: Duration
        public var timeout: Duration
        public var maxBackoff: Duration
        public var settle: Duration
        /// The Authorization header value, or `user:password` for Basic.
        public var credentials: String?

        public init(
            kind: Kind, location: String, ingestAs: String, format: IngestFormat? = nil,
            interval: Duration = .seconds(60), timeout: Duration = .seconds(30), maxBackoff: Duration = .seconds(3600),
            settle: Duration = .seconds(2), credentials: String? = nil
        ) {
            self.kind = kind
            self.location = location
            self.ingestAs = ingestAs
            self.format = format
            self.interval = interval
            self.timeout = timeout
            self.maxBackoff = maxBackoff
            self.settle = settle
            self.credentials = credentials
        }
    }

    /// A feed as an operator sees it: never its credentials.
    public struct Feed: Codable, Sendable, Equatable {
        public var name: String
        public var kind: Kind
        public var location: String
        public var ingestAs: String
        public var format: String?
        public var intervalSeconds: Double
        public var timeoutSeconds: Double
        public var maxBackoffSeconds: Double
        public var settleSeconds: Double
        public var hasCredentials: Bool
        public var paused: Bool
        public var createdAt: Date
        public var createdBy: String
        public var lastPolledAt: Date?
        public var lastItemAt: Date?
        public var lastItem: String?
        public var lastErrorAt: Date?
        public var lastError: String?
        /// Failures in a row; the feed waits longer after each.
        public var failures: Int
        public var dueAt: Date
        /// Items that went in (new or updated stories) in the last hour.
        public var itemsLastHour: Int
        /// Seconds since the feed last had nothing waiting (nil: it never has yet).
        public var lagSeconds: Double?
        public var items: Int64
        public var errors: Int64
    }

    /// What the worker needs for one round of a feed.
    public struct Work: Sendable {
        public var name: String
        public var settings: Settings
        public var etag: String?
        public var lastModified: String?
        /// For a ninjs list: the cursor to ask after.
        public var position: String?
        public var failures: Int
    }

    // MARK: Administration

    public func add(_ name: String, _ settings: Settings, by principal: Principal, logger: Logger) async throws -> Feed {
        try UserStore.checkAdmin(principal, to: "manage feeds")
        try Self.validate(name: name, settings)
        let ingester = try await UserStore(database: database).principal(named: settings.ingestAs, source: .ingest, logger: logger)
        try Workflow.checkIngest(by: ingester)
        let s = settings
        try await database.transaction(logger: logger) { connection in
            let added = try await connection.rows(
                """
                INSERT INTO wire_feeds (name, kind, location, ingest_as, format, interval_ms, timeout_ms, max_backoff_ms,
                    settle_ms, credentials, created_by)
                VALUES (\(name), \(s.kind.rawValue), \(s.location), \(s.ingestAs), \(s.format?.rawValue),
                    \(Int32(s.interval.milliseconds)), \(Int32(s.timeout.milliseconds)), \(Int32(s.maxBackoff.milliseconds)),
                    \(Int32(s.settle.milliseconds)), \(s.credentials), \(principal.name))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger)
            guard !added.isEmpty else {
                throw WiredeskError(.conflict, "there is a feed \(name) already; remove it first or choose another name")
            }
            try await AuditLog.record(
                AuditEntry(
                    principal: principal, action: "feed.add", reason: "\(s.kind.rawValue) \(s.location)",
                    subject: "feed \(name)"),
                on: connection, logger: logger)
        }
        return try await feed(name, logger: logger)
    }

    public func list(logger: Logger) async throws -> [Feed] {
        try await database.rows("SELECT \(unescaped: Self.columns) FROM wire_feeds f ORDER BY f.name", logger: logger)
            .map(Self.decode)
    }

    public func feed(_ name: String, logger: Logger) async throws -> Feed {
        let rows = try await database.rows(
            "SELECT \(unescaped: Self.columns) FROM wire_feeds f WHERE f.name = \(name)", logger: logger)
        guard let row = rows.first else { throw Self.notFound(name) }
        return try Self.decode(row)
    }

    /// Stops taking the feed's items in; what is waiting stays where it is.
    public func pause(_ name: String, by principal: Principal, logger: Logger) async throws -> Feed {
        try await change(name, "feed.pause", by: principal, logger: logger) {
            "UPDATE wire_feeds SET paused = true WHERE name = \(name) RETURNING name"
        }
        return try await feed(name, logger: logger)
    }

    /// Takes the feed's items in again, at once and from where it stopped.
    public func resume(_ name: String, by principal: Principal, logger: Logger) async throws -> Feed {
        try await change(name, "feed.resume", by: principal, logger: logger) {
            "UPDATE wire_feeds SET paused = false, failures = 0, due_at = now() WHERE name = \(name) RETURNING name"
        }
        return try await feed(name, logger: logger)
    }

    /// Forgets the feed; the items it brought keep its name as their provenance.
    public func remove(_ name: String, by principal: Principal, logger: Logger) async throws {
        try await change(name, "feed.remove", by: principal, logger: logger) {
            "DELETE FROM wire_feeds WHERE name = \(name) RETURNING name"
        }
    }

    private func change(
        _ name: String, _ action: String, by principal: Principal, logger: Logger, _ statement: @Sendable () -> SQL
    ) async throws {
        try await AuditLog.adminChange(
            statement(), action: action, subject: "feed \(name)", managing: "feeds", notFound: Self.notFound(name),
            by: principal, database: database, logger: logger)
    }

    static func validate(name: String, _ settings: Settings) throws {
        var problems: [WiredeskError.FieldError] = []
        func fail(_ field: String, _ message: String) { problems.append(.init(field: field, message: message)) }
        if name.range(of: "^[a-z0-9][a-z0-9._-]{0,63}$", options: .regularExpression) == nil {
            fail("name", "use 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
        }
        let location = settings.location
        if location.isEmpty || location.utf8.count > 2000 || location.contains(where: { $0.isNewline || $0 == "\0" }) {
            fail("location", "expected a path or URL of at most 2000 bytes on one line")
        } else {
            switch settings.kind {
            case .folder:
                if !location.hasPrefix("/") { fail("location", "a drop folder is an absolute path, not \(location)") }
            case .http:
                if let problem = Self.urlProblem(location) { fail("location", problem) }
            }
        }
        if settings.kind == .folder, settings.credentials != nil {
            fail("credentials", "a drop folder takes no credentials")
        }
        if let credentials = settings.credentials,
            credentials.isEmpty || credentials.utf8.count > 4096 || credentials.contains(where: { $0.isNewline || $0 == "\0" })
        {
            fail("credentials", "expected one line of at most 4096 bytes")
        }
        for (field, value, least) in [
            ("interval", settings.interval, Duration.milliseconds(10)), ("timeout", settings.timeout, .milliseconds(10)),
            ("maxBackoff", settings.maxBackoff, .milliseconds(10)), ("settle", settings.settle, .zero),
        ] where value < least || value > .seconds(86_400) {
            fail(field, "expected between \(least.milliseconds) ms and one day")
        }
        if settings.timeout > .seconds(600) { fail("timeout", "expected at most 600 seconds") }
        if settings.settle > .seconds(3600) { fail("settle", "expected at most an hour") }
        if !problems.isEmpty { throw WiredeskError.invalid(problems) }
    }

    /// Why `url` cannot be polled, or nil. Credentials in a URL would be shown wherever the URL
    /// is, so they are refused there and kept apart.
    static func urlProblem(_ url: String) -> String? {
        guard let parts = HTTPURL.parse(url) else { return "expected an http:// or https:// URL with a host" }
        if parts.user != nil || parts.password != nil {
            return "credentials do not belong in the URL, where they would be shown: give them with --credentials-stdin"
        }
        return nil
    }

    private static func notFound(_ name: String) -> WiredeskError {
        WiredeskError(.notFound, "no feed \(name); `wiredesk feed list` shows them")
    }

    // MARK: The worker's side

    /// Feeds that are not paused and are due for a round.
    public func due(logger: Logger) async throws -> [Work] {
        try await database.rows(
            """
            SELECT name, kind, location, ingest_as, format, interval_ms, timeout_ms, max_backoff_ms, settle_ms,
                   credentials, etag, last_modified, position, failures
            FROM wire_feeds WHERE NOT paused AND due_at <= now() ORDER BY due_at, name
            """, logger: logger
        ).map { row in
            let (name, kind, location, user, format, interval, timeout, backoff, settle, credentials, etag, modified, position, failures) =
                try row.decode(
                    (String, String, String, String, String?, Int32, Int32, Int32, Int32, String?, String?, String?, String?, Int32).self)
            return Work(
                name: name,
                settings: Settings(
                    kind: Kind(rawValue: kind) ?? .folder, location: location, ingestAs: user,
                    format: format.flatMap(IngestFormat.init), interval: .milliseconds(interval),
                    timeout: .milliseconds(timeout), maxBackoff: .milliseconds(backoff), settle: .milliseconds(settle),
                    credentials: credentials),
                etag: etag, lastModified: modified, position: position, failures: Int(failures))
        }
    }

    /// What one round did.
    public struct Round: Sendable {
        /// Items that went in (created or updated stories).
        public var items = 0
        /// The last of them, as the operator knows it (a file name, an agency id).
        public var lastItem: String?
        /// Whether nothing was left waiting when the round ended.
        public var caughtUp = false
        /// Errors with single items, which do not hold the feed up.
        public var itemErrors: [String] = []
        /// Where an HTTP feed now stands: the validators of the URL it asks next (nil: none, as
        /// when the position moved and the next URL is another), and its position.
        public var etag: String?
        public var lastModified: String?
        public var position: String?
        /// Due again at once (a ninjs list with more to read).
        public var again = false

        public init() {}
    }

    /// Records a round that reached the feed: due again after its interval (or at once).
    public func succeeded(_ name: String, _ round: Round, logger: Logger) async throws {
        let error = round.itemErrors.last.map { ControlCharacters.oneLine($0) }
        try await database.rows(
            """
            UPDATE wire_feeds SET
                last_polled_at = now(), failures = 0,
                due_at = now() + CASE WHEN \(round.again) THEN interval '0' ELSE interval_ms * interval '1 millisecond' END,
                items = items + \(round.items),
                last_item_at = CASE WHEN \(round.items) > 0 THEN now() ELSE last_item_at END,
                last_item = coalesce(\(round.lastItem), last_item),
                caught_up_at = CASE WHEN \(round.caughtUp) THEN now() ELSE caught_up_at END,
                errors = errors + \(round.itemErrors.count),
                last_error = coalesce(\(error), last_error),
                last_error_at = CASE WHEN \(error) IS NULL THEN last_error_at ELSE now() END,
                etag = \(round.etag),
                last_modified = \(round.lastModified),
                position = coalesce(\(round.position), position)
            WHERE name = \(name)
            """, logger: logger)
    }

    /// Records a round that failed: the feed waits its interval, doubled for each failure in a
    /// row, up to its longest backoff.
    public func failed(_ name: String, error: String, logger: Logger) async throws {
        try await database.rows(
            """
            UPDATE wire_feeds SET
                last_polled_at = now(), failures = failures + 1, errors = errors + 1,
                last_error = \(ControlCharacters.oneLine(error)), last_error_at = now(),
                due_at = now() + least(interval_ms::float8 * power(2, least(failures + 1, 40)), max_backoff_ms::float8)
                    * interval '1 millisecond'
            WHERE name = \(name)
            """, logger: logger)
    }

    // MARK: Rows

    private static let columns = """
        f.name, f.kind, f.location, f.ingest_as, f.format, f.interval_ms, f.timeout_ms, f.max_backoff_ms, f.settle_ms,
        f.credentials IS NOT NULL, f.paused, f.created_at, f.created_by, f.last_polled_at, f.last_item_at, f.last_item,
        f.last_error_at, f.last_error, f.failures, f.due_at,
        (SELECT count(*) FROM ingest_items i WHERE i.feed = f.name AND i.received_at > now() - interval '1 hour')::int,
        extract(epoch FROM now() - f.caught_up_at)::float8, f.items, f.errors
        """

    private static func decode(_ row: PostgresRow) throws -> Feed {
        let row = row.makeRandomAccess()
        func seconds(_ i: Int) throws -> Double { Double(try row[i].decode(Int32.self)) / 1000 }
        return Feed(
            name: try row[0].decode(String.self), kind: Kind(rawValue: try row[1].decode(String.self)) ?? .folder,
            location: try row[2].decode(String.self), ingestAs: try row[3].decode(String.self),
            format: try row[4].decode(String?.self), intervalSeconds: try seconds(5), timeoutSeconds: try seconds(6),
            maxBackoffSeconds: try seconds(7), settleSeconds: try seconds(8), hasCredentials: try row[9].decode(Bool.self),
            paused: try row[10].decode(Bool.self), createdAt: try row[11].decode(Date.self),
            createdBy: try row[12].decode(String.self), lastPolledAt: try row[13].decode(Date?.self),
            lastItemAt: try row[14].decode(Date?.self), lastItem: try row[15].decode(String?.self),
            lastErrorAt: try row[16].decode(Date?.self), lastError: try row[17].decode(String?.self),
            failures: Int(try row[18].decode(Int32.self)), dueAt: try row[19].decode(Date.self),
            itemsLastHour: try row[20].decode(Int.self), lagSeconds: try row[21].decode(Double?.self),
            items: try row[22].decode(Int64.self), errors: try row[23].decode(Int64.self))
    }
}
