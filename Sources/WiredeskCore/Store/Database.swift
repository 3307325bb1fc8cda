import Foundation
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// Where the database is, from a libpq-style URL:
/// `postgres://user:password@host:port/database?sslmode=disable` (or `?host=/socket/dir`).
public struct DatabaseURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool

    /// The private cluster that `scripts/pg` runs, as `role`, with the password `scripts/pg` keeps
    /// for it in `secrets/` beside the cluster (`WIREDESK_PG_DIR`, default `.data/pg`).
    public static func privateCluster(
        role: String = "wiredesk_app", port: Int = defaultPort,
        env: [String: String] = ProcessInfo.processInfo.environment
    ) -> DatabaseURL {
        let folder = env["WIREDESK_PG_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? ".data/pg"
        let password = (try? String(contentsOfFile: "\(folder)/secrets/\(role).password", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return DatabaseURL(
            host: "127.0.0.1", port: port, socketDirectory: nil, username: role, password: password,
            database: "wiredesk", requireTLS: false)
    }

    public static let defaultPort = 54329

    /// What the server and every command but `migrate` connect as: `DATABASE_URL` when set, else
    /// the private cluster's app role (`WIREDESK_APP_ROLE`, default `wiredesk_app`) on
    /// `WIREDESK_PG_PORT` (default 54329).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws
        -> DatabaseURL
    {
        if let url = env["DATABASE_URL"], !url.isEmpty {
            return try DatabaseURL(parsing: url)
        }
        let role = env["WIREDESK_APP_ROLE"].flatMap { $0.isEmpty ? nil : $0 } ?? "wiredesk_app"
        return .privateCluster(role: role, port: try privatePort(env), env: env)
    }

    /// What `migrate` connects as, the owner of the schema: `WIREDESK_MIGRATION_URL` when set, else
    /// the private cluster's owner `wiredesk`.
    public static func migrationFromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment)
        throws -> DatabaseURL
    {
        if let url = env["WIREDESK_MIGRATION_URL"], !url.isEmpty {
            return try DatabaseURL(parsing: url, variable: "WIREDESK_MIGRATION_URL")
        }
        return .privateCluster(role: "wiredesk", port: try privatePort(env), env: env)
    }

    private static func privatePort(_ env: [String: String]) throws -> Int {
        guard let text = env["WIREDESK_PG_PORT"], !text.isEmpty else { return defaultPort }
        guard let port = Int(text), (1...65535).contains(port) else {
            throw WiredeskError.invalid(field: "WIREDESK_PG_PORT", "expected a port number, got \(text)")
        }
        return port
    }

    public init(
        host: String, port: Int, socketDirectory: String?, username: String, password: String?,
        database: String, requireTLS: Bool
    ) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.username = username
        self.password = password
        self.database = database
        self.requireTLS = requireTLS
    }

    public init(parsing text: String, variable: String = "DATABASE_URL") throws {
        func bad(_ why: String) -> WiredeskError {
            WiredeskError.invalid(
                field: variable, "\(why) (expected postgres://user[:password]@host[:port]/database)")
        }
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw bad("not a postgres:// URL") }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        host = url.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"] ?? "127.0.0.1"
        port = url.port ?? query["port"].flatMap(Int.init) ?? 5432
        guard let user = url.user, !user.isEmpty else { throw bad("no user name") }
        username = user
        password = url.password
        database = String(url.path.drop(while: { $0 == "/" }))
        if database.isEmpty { database = username }
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow", "prefer": requireTLS = false
        case "require", "verify-ca", "verify-full": requireTLS = true
        case let mode: throw bad("unknown sslmode \(mode)")
        }
    }

    /// The URL itself, password included, for handing to another process.
    public var connectionString: String {
        var url = URLComponents()
        url.scheme = "postgres"
        url.user = username
        url.password = password
        url.host = host
        url.port = port
        url.path = "/\(database)"
        var query: [URLQueryItem] = []
        if let socketDirectory { query.append(URLQueryItem(name: "host", value: socketDirectory)) }
        if requireTLS { query.append(URLQueryItem(name: "sslmode", value: "require")) }
        url.queryItems = query.isEmpty ? nil : query
        return url.string ?? redacted
    }

    /// The same place without the password, for messages and logs.
    public var redacted: String {
        let place = socketDirectory.map { "?host=\($0)" } ?? ""
        return "postgres://\(username)@\(host):\(port)/\(database)\(place)"
    }

    /// `keepWarm`: a long-running server's pool, which opens all its connections and keeps them.
    public func clientConfiguration(
        maximumConnections: Int = 20, keepWarm: Bool = false, limits: SessionLimits = .operator
    ) -> PostgresClient.Configuration {
        var config: PostgresClient.Configuration
        if let socketDirectory {
            config = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password,
                database: database)
        } else {
            config = .init(
                host: host, port: port, username: username, password: password, database: database,
                tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
        }
        config.options.maximumConnections = maximumConnections
        config.options.connectTimeout = .seconds(5)
        config.options.additionalStartupParameters = limits.startupParameters
        if keepWarm {
            // postgres-nio arms an idle timer and a keep-alive timer each time a connection goes
            // back to the pool, and a cancelled timer lives on until it would have fired: under
            // load, memory grows with queries per second times the timeout (about 80 MB more at
            // 3,000 queries/s with the default 60 s). Keep-alive pings are off (on loopback a broken
            // connection shows itself on use and is replaced) and idle connections close after 10 s.
            // Keeping all connections open (`minimumConnections` = maximum) would avoid the timers
            // altogether, but the pool then trips a precondition when the database restarts
            // (vapor/postgres-nio#479; the fault suite's restart scenario crashed the server).
            config.options.keepAliveBehavior = nil
            config.options.connectionIdleTimeout = .seconds(10)
        }
        return config
    }
}

/// What PostgreSQL holds each session of a pool to. A server's requests must never wait without
/// end on a lock or a slow statement, nor leave a transaction open; an operator's long command
/// (an export, a verification) needs more room.
public struct SessionLimits: Sendable, Equatable {
    /// nil: no limit.
    public var statementTimeout: Duration?
    public var lockTimeout: Duration?
    public var idleInTransactionTimeout: Duration?

    public init(statementTimeout: Duration?, lockTimeout: Duration?, idleInTransactionTimeout: Duration?) {
        self.statementTimeout = statementTimeout
        self.lockTimeout = lockTimeout
        self.idleInTransactionTimeout = idleInTransactionTimeout
    }

    /// The server's request connections.
    public static let server = SessionLimits(
        statementTimeout: .seconds(10), lockTimeout: .seconds(2), idleInTransactionTimeout: .seconds(30))
    /// Commands run by an operator, which may read the whole store.
    public static let `operator` = SessionLimits(
        statementTimeout: nil, lockTimeout: .seconds(30), idleInTransactionTimeout: .seconds(600))

    /// Sent when each connection starts, so that no statement runs before they apply.
    var startupParameters: [(String, String)] {
        func milliseconds(_ duration: Duration?) -> String {
            guard let duration else { return "0" }
            return String(max(1, duration.milliseconds))
        }
        return [
            ("statement_timeout", milliseconds(statementTimeout)),
            ("lock_timeout", milliseconds(lockTimeout)),
            ("idle_in_transaction_session_timeout", milliseconds(idleInTransactionTimeout)),
            // The planner's default prices a page out of order at four times one in order, as on a
            // spinning disk: it then reads the audit trail's time index backwards and filters rather
            // than take the index made for the filter (0006), and a rare action reads the whole
            // tail. Pages are in memory or on SSD here.
            ("random_page_cost", "1.1"),
        ]
    }
}

extension DatabaseURL {
    /// Connects once, outside any pool, so that a command-line tool can say at once that the
    /// database is down or refuses it, instead of waiting on a pool that keeps retrying.
    public func checkReachable(logger: Logger) async throws {
        let connection = try await connect(logger: logger)
        try? await connection.close()
    }

    /// Ids of connections outside the pool, in logs apart from the pool's.
    private static let sessionIDs = Atomic<Int>(1_000_000)

    /// One connection of its own, outside the pool: for what holds a session for as long as it
    /// runs (a LISTEN, a session lock) and must not take a request's place in the pool.
    /// `unavailable`, saying why, when it cannot be opened.
    public func connect(logger: Logger) async throws -> PostgresConnection {
        var config: PostgresConnection.Configuration
        if let socketDirectory {
            config = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password,
                database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS =
                requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
            config = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        config.options.connectTimeout = .seconds(5)
        config.options.additionalStartupParameters = SessionLimits.operator.startupParameters
        do {
            return try await PostgresConnection.connect(
                configuration: config, id: Self.sessionIDs.add(1, ordering: .relaxed).newValue, logger: logger)
        } catch let error as PSQLError where error.code == .server {
            let message = error.serverInfo?[.message] ?? "refused"
            throw WiredeskError(.unavailable, "the database at \(redacted) refused the connection: \(message)")
        } catch {
            throw WiredeskError(
                .unavailable,
                "cannot reach the database at \(redacted); start it with scripts/pg start or set DATABASE_URL")
        }
    }
}

extension DatabaseURL {
    /// The server connects as the app role, which owns nothing and may only append to history.
    /// A superuser, an owner of the tables or a role that may change the audit trail is refused,
    /// so that a misconfigured deployment is not silently one that can rewrite its history. A
    /// database that cannot be reached now is left to the pool, which reports it per request.
    public func refuseExcessPrivilege(logger: Logger) async throws {
        let client = PostgresClient(configuration: clientConfiguration(maximumConnections: 1), backgroundLogger: logger)
        let problem: String? = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            let rows = try? await client.query(
                """
                SELECT r.rolsuper,
                       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE n.nspname = current_schema() AND pg_has_role(current_user, c.relowner, 'USAGE')),
                       COALESCE(has_table_privilege(to_regclass('audit_events'), 'UPDATE')
                                OR has_table_privilege(to_regclass('audit_events'), 'DELETE')
                                OR has_table_privilege(to_regclass('audit_events'), 'TRUNCATE'), false)
                FROM pg_roles r WHERE r.rolname = current_user
                """, logger: logger)
            guard let rows else { return nil }
            do {
                for try await (superuser, owner, rewrites) in rows.decode((Bool, Bool, Bool).self) {
                    if superuser { return "is a superuser" }
                    if owner { return "owns tables of the schema" }
                    if rewrites { return "may update, delete or truncate the audit trail" }
                }
            } catch {}
            return nil
        }
        if let problem {
            throw WiredeskError(
                .forbidden,
                "the server connects as \(username), which \(problem): set DATABASE_URL to the app role (WIREDESK_APP_ROLE, created by `wiredesk migrate`), which owns nothing"
            )
        }
    }
}

/// The connection pool, with what every use of it needs: failures mapped to what a caller can
/// act on, and pool use measured (`wiredesk_db_pool_in_use`: operations holding or waiting for a
/// connection; `wiredesk_db_pool_size`: the most the pool opens).
public struct Database: Sendable {
    public let client: PostgresClient
    /// How long an operation waits for a connection before it is refused as `unavailable`. The
    /// pool itself waits up to a minute while the server is down; a newsroom tool should say so
    /// at once instead.
    public var acquireTimeout: Duration
    private let use: PoolUse

    public init(client: PostgresClient, maximumConnections: Int, acquireTimeout: Duration = .seconds(5)) {
        self.client = client
        self.acquireTimeout = acquireTimeout
        self.use = PoolUse(size: maximumConnections)
    }

    /// A pool for `url`; run `client.run()` (or add `client` as a service) before using it.
    public init(
        url: DatabaseURL, maximumConnections: Int = 20, keepWarm: Bool = false, acquireTimeout: Duration = .seconds(5),
        limits: SessionLimits = .operator, logger: Logger
    ) {
        let client = PostgresClient(
            configuration: url.clientConfiguration(
                maximumConnections: maximumConnections, keepWarm: keepWarm, limits: limits),
            eventLoopGroup: SpreadEventLoops.shared, backgroundLogger: logger)
        self.init(client: client, maximumConnections: maximumConnections, acquireTimeout: acquireTimeout)
    }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it throws.
    /// Inside a unit of work, `body` is part of the unit's transaction.
    public func transaction<T: Sendable>(
        logger: Logger, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        if let unit = Self.unitOfWork {
            return try await databaseErrors { try await body(unit) }
        }
        return try await leased { connection in
            try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// The connection of the unit of work the current task runs in, if any.
    @TaskLocal static var unitOfWork: PostgresConnection?

    /// Runs `body` as one unit of work: every statement it sends through this database, and every
    /// transaction it opens, goes into one transaction on one connection, committed when it
    /// returns and rolled back when it throws. An idempotent request is one unit: the key, the
    /// change and the answer commit together or not at all.
    public func unitOfWork<T: Sendable>(logger: Logger, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await transaction(logger: logger) { connection in
            try await Self.$unitOfWork.withValue(connection) { try await body() }
        }
    }

    /// Runs one statement and returns all its rows.
    func run(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        if let unit = Self.unitOfWork {
            return try await databaseErrors {
                let result: EventLoopFuture<PostgresQueryResult> = unit.query(query, logger: logger)
                return try await result.get().rows
            }
        }
        return try await leased { connection in
            // Collected on the connection's event loop and handed over once: read one at a time
            // from the async sequence, each row cost several microseconds (a page of 100 events, a
            // millisecond).
            let result: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
            return try await result.get().rows
        }
    }

    /// Runs a statement PostgreSQL parses and plans once per connection, for the queries the
    /// server answers most, and returns its rows.
    public func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        @Sendable func collect(_ connection: PostgresConnection) async throws -> [Statement.Row] {
            try await connection.rows(statement, logger: logger)
        }
        if let unit = Self.unitOfWork {
            return try await databaseErrors { try await collect(unit) }
        }
        return try await leased(collect)
    }

    /// Runs `body` on a pooled connection. The caller always gets an answer: `unavailable` if no
    /// connection comes within `acquireTimeout`, or if the one it got closes under it; otherwise
    /// whatever `body` returns or throws. Work on an open connection is never cut short.
    private func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await use.measure {
            let lease = Lease<T>()
            let client = self.client
            let work = Task {
                do {
                    try await databaseErrors {
                        try await client.withConnection { connection in
                            try lease.acquire(connection)
                            // Answered while the connection is still held, so that a close
                            // after the work cannot turn its success into `unavailable`.
                            lease.answer(.success(try await body(connection)))
                        }
                    }
                } catch {
                    lease.answer(.failure(error))
                }
            }
            lease.watch(every: acquireTimeout, on: MultiThreadedEventLoopGroup.singleton.any()) { work.cancel() }
            return try await withTaskCancellationHandler {
                try await lease.value()
            } onCancel: {
                work.cancel()
            }
        }
    }
}

extension Database {
    /// Whether the database answers within `timeout`; `unavailable` if not.
    public func ping(timeout: Duration, logger: Logger) async throws {
        let answered = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                (try? await run("SELECT 1", logger: logger)) != nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard answered else { throw WiredeskError(.unavailable, "the database is unavailable") }
    }
}

/// NIO's shared event loops, handing out the next loop every time. `any()` on the group itself
/// returns the caller's own loop, so a pool filled from one loop would put every connection on
/// it and leave the other cores idle.
final class SpreadEventLoops: EventLoopGroup, Sendable {
    static let shared = SpreadEventLoops()
    private let base = MultiThreadedEventLoopGroup.singleton

    func next() -> any EventLoop { base.next() }
    func any() -> any EventLoop { base.next() }
    func makeIterator() -> EventLoopIterator { base.makeIterator() }

    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        callback(nil)  // the shared loops live as long as the process
    }

    #if canImport(Dispatch)
        func syncShutdownGracefully() throws {}
    #endif
}

extension Duration {
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}

private final class PoolUse: Sendable {
    private let inFlight = Atomic<Int>(0)
    private let gauge = Gauge(label: "wiredesk_db_pool_in_use")

    init(size: Int) {
        Gauge(label: "wiredesk_db_pool_size").record(size)
        gauge.record(0)
    }

    func measure<T>(_ body: () async throws -> T) async throws -> T {
        gauge.record(inFlight.add(1, ordering: .relaxed).newValue)
        defer { gauge.record(inFlight.subtract(1, ordering: .relaxed).newValue) }
        return try await body()
    }
}

/// Maps failures from postgres-nio to what a caller can act on: our own errors pass through,
/// an unreachable database becomes `unavailable`, anything else stays internal.
func databaseErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PostgresTransactionError {
        if let inner = error.closureError { throw translate(inner) }
        throw translate(error.beginError ?? error.commitError ?? error)
    } catch {
        throw translate(error)
    }
}

private func translate(_ error: any Error) -> any Error {
    guard let error = error as? PSQLError else { return error }
    switch error.code {
    case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
        .sslUnsupported, .failedToAddSSLHandler:
        return WiredeskError(.unavailable, "the database is unavailable")
    case .server:
        // 57P01..57P03: the server is shutting down or starting up; 08xxx: connection failures.
        let state = error.serverInfo?[.sqlState] ?? ""
        if state.hasPrefix("57P") || state.hasPrefix("08") || state == "53300" {
            return WiredeskError(.unavailable, "the database is unavailable")
        }
        // lock_timeout: another change holds the row longer than a request may wait.
        if state == "55P03" {
            return WiredeskError(.unavailable, "the story is locked by another change; retry shortly")
        }
        // statement_timeout.
        if state == "57014" {
            return WiredeskError(.unavailable, "the database took too long to answer; retry shortly")
        }
        return error
    default:
        return error
    }
}

extension PSQLError {
    var sqlState: String? { serverInfo?[.sqlState] }
}
