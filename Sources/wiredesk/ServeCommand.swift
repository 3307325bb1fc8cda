import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import WiredeskAPI
import WiredeskCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP API until SIGTERM or SIGINT.")

    @Option(help: "Address to listen on.")
    var host = ProcessInfo.processInfo.environment["WIREDESK_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = Int(ProcessInfo.processInfo.environment["WIREDESK_PORT"] ?? "") ?? 8080

    @Option(help: "Largest request body in bytes; bigger ones get 413.")
    var maxBodySize = Int(ProcessInfo.processInfo.environment["WIREDESK_MAX_BODY_BYTES"] ?? "") ?? 1 << 20

    @Option(help: "Database connections in the pool (default: twice the cores, plus two; at least 6).")
    var connections = Int(ProcessInfo.processInfo.environment["WIREDESK_DB_CONNECTIONS"] ?? "") ?? Self.poolSize

    /// PostgreSQL does its work on the same cores: more connections than it can run at once only
    /// queue inside it, and a connection that goes back to an idle pool costs postgres-nio a timer
    /// task, one that goes to a waiting request does not. On 2 cores, 6 served reads 15% faster than 20.
    static var poolSize: Int { max(6, 2 * ProcessInfo.processInfo.activeProcessorCount + 2) }

    @Option(help: "Seconds a request waits for a database connection before it is answered 503.")
    var dbTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_DB_TIMEOUT"] ?? "") ?? 5

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "") ?? .info

    @Option(help: "Log as text lines or as one JSON object per line (json).")
    var logFormat: LogFormat = LogFormat(rawValue: ProcessInfo.processInfo.environment["WIREDESK_LOG_FORMAT"] ?? "") ?? .text

    @Option(help: "Most HTTP connections open at once; at the cap, one that has not sent a request header is closed.")
    var maxClients = Int(ProcessInfo.processInfo.environment["WIREDESK_MAX_CLIENTS"] ?? "") ?? 1_000

    @Option(help: "Seconds a client has to send a request header.")
    var headerTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_HEADER_TIMEOUT"] ?? "") ?? 10

    @Option(help: "Seconds a request body may take to arrive.")
    var bodyTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_BODY_TIMEOUT"] ?? "") ?? 60

    @Option(help: "Seconds a kept-alive connection may sit idle between requests.")
    var idleTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_IDLE_TIMEOUT"] ?? "") ?? 60

    @Option(help: "Seconds a database statement of a request may run (0: no limit).")
    var statementTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_STATEMENT_TIMEOUT"] ?? "") ?? 10

    @Option(help: "Seconds a request waits for a row another change holds before it is answered 503.")
    var lockTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_LOCK_TIMEOUT"] ?? "") ?? 2

    @Option(help: "Seconds a database transaction may sit idle before PostgreSQL ends it.")
    var idleTransactionTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_IDLE_TRANSACTION_TIMEOUT"] ?? "") ?? 30

    @Option(help: "Seconds SIGTERM waits for requests in flight before the process exits anyway.")
    var shutdownDeadline = Double(ProcessInfo.processInfo.environment["WIREDESK_SHUTDOWN_DEADLINE"] ?? "") ?? 30

    @Option(help: "Seconds between rounds that chain new audit events (0: this server does not seal).")
    var sealInterval = Double(ProcessInfo.processInfo.environment["WIREDESK_SEAL_INTERVAL"] ?? "") ?? 0.5

    @Option(help: "Most feed event streams (GET /v1/feed/stream) open at once, apart from --max-clients.")
    var maxStreams = Int(ProcessInfo.processInfo.environment["WIREDESK_MAX_STREAMS"] ?? "") ?? 250

    @Option(help: "The most stories one bulk call (POST /v1/stories/bulk/…) changes.")
    var bulkMax = Int(ProcessInfo.processInfo.environment["WIREDESK_BULK_MAX"] ?? "") ?? BulkChange.defaultMaximum

    @Option(
        help: """
            Where users reach this server, when a proxy is in front (https://desk.example.org): with https \
            the web desk's cookies are Secure, and its forms are accepted from that origin only.
            """)
    var publicURL = ProcessInfo.processInfo.environment["WIREDESK_PUBLIC_URL"]

    @Option(help: "Web desk sign-in attempts from one address per 15 minutes.")
    var signInAddressLimit = Int(ProcessInfo.processInfo.environment["WIREDESK_SIGNIN_ADDRESS_LIMIT"] ?? "") ?? 30

    @Option(help: "Web desk sign-in attempts at one account per 15 minutes (a success clears them).")
    var signInAccountLimit = Int(ProcessInfo.processInfo.environment["WIREDESK_SIGNIN_ACCOUNT_LIMIT"] ?? "") ?? 10

    @Option(help: "Seconds between heartbeats on a quiet feed stream.")
    var streamHeartbeat = Double(ProcessInfo.processInfo.environment["WIREDESK_STREAM_HEARTBEAT"] ?? "") ?? 15

    @Option(help: "Seconds before the first retry of a failed webhook delivery; each further wait doubles.")
    var webhookRetryInitial = Double(ProcessInfo.processInfo.environment["WIREDESK_WEBHOOK_RETRY_INITIAL"] ?? "") ?? 5

    @Option(help: "Seconds a failing webhook's wait grows to at most.")
    var webhookRetryMax = Double(ProcessInfo.processInfo.environment["WIREDESK_WEBHOOK_RETRY_MAX"] ?? "") ?? 3_600

    @Option(help: "Seconds a webhook may keep failing before it is disabled.")
    var webhookGiveUpAfter = Double(ProcessInfo.processInfo.environment["WIREDESK_WEBHOOK_GIVE_UP_AFTER"] ?? "") ?? 86_400

    @Option(help: "Seconds a webhook receiver has to answer.")
    var webhookTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_WEBHOOK_TIMEOUT"] ?? "") ?? 10

    @Flag(help: "This server does not deliver webhooks (another one does).")
    var noWebhooks = false

    @Flag(help: "This server does not work the agency feeds (`wiredesk feed`; another one does).")
    var noIngest = false

    @Option(help: "Seconds between looks for agency feeds that are due.")
    var ingestTick = Double(ProcessInfo.processInfo.environment["WIREDESK_INGEST_TICK"] ?? "") ?? 0.25

    @Option(help: "Files of one drop folder ingested side by side.")
    var ingestParallel = Int(ProcessInfo.processInfo.environment["WIREDESK_INGEST_PARALLEL"] ?? "") ?? 4

    func validate() throws {
        for (name, value) in [
            ("--db-timeout", dbTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
            ("--idle-timeout", idleTimeout), ("--shutdown-deadline", shutdownDeadline),
            ("--stream-heartbeat", streamHeartbeat), ("--webhook-retry-initial", webhookRetryInitial),
            ("--webhook-retry-max", webhookRetryMax), ("--webhook-timeout", webhookTimeout),
            ("--webhook-give-up-after", webhookGiveUpAfter), ("--ingest-tick", ingestTick),
        ] where !(value > 0 && value <= 31 * 86_400) {
            throw ValidationError("\(name) must be a number of seconds above 0")
        }
        for (name, value) in [
            ("--statement-timeout", statementTimeout), ("--lock-timeout", lockTimeout),
            ("--idle-transaction-timeout", idleTransactionTimeout), ("--seal-interval", sealInterval),
        ] where !(value >= 0 && value <= 86_400) {
            throw ValidationError("\(name) must be a number of seconds (0: no limit)")
        }
        if let publicURL {
            guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                url.path.isEmpty || url.path == "/", url.query == nil
            else { throw ValidationError("--public-url must be an origin such as https://desk.example.org") }
        }
        guard (1...100_000).contains(signInAddressLimit), (1...100_000).contains(signInAccountLimit) else {
            throw ValidationError("--sign-in-address-limit and --sign-in-account-limit must be 1 to 100000")
        }
        guard BulkChange.maximums.contains(bulkMax) else {
            throw ValidationError("--bulk-max must be 1 to \(BulkChange.maximums.upperBound)")
        }
        guard maxClients >= 1, maxBodySize >= 1, connections >= 1, maxStreams >= 1, (1...64).contains(ingestParallel) else {
            throw ValidationError(
                "--max-clients, --max-body-size, --connections and --max-streams must be at least 1, --ingest-parallel 1 to 64")
        }
    }

    func run() async throws {
        // Run Swift concurrency's jobs on NIO's event loop threads: the server, the database
        // pool and the handlers then share two threads instead of hopping between thread pools.
        // CPU-heavy work (parsing, diffing, exports) goes to WiredeskCore's Offload pool instead.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Offload.yieldToEventLoops()
        logFormat.bootstrap(level: logLevel)
        var logger = Logger(label: "wiredesk")
        logger.logLevel = logLevel
        do {
            let settings = ServerSettings(
                host: host, port: port, database: try DatabaseURL.fromEnvironment(), maximumConnections: connections,
                maximumBodySize: maxBodySize, databaseTimeout: Self.duration(dbTimeout)!,
                databaseLimits: SessionLimits(
                    statementTimeout: Self.duration(statementTimeout), lockTimeout: Self.duration(lockTimeout),
                    idleInTransactionTimeout: Self.duration(idleTransactionTimeout)),
                connections: ConnectionLimits(
                    maximumConnections: maxClients, headerTimeout: Self.duration(headerTimeout)!,
                    bodyTimeout: Self.duration(bodyTimeout)!, idleTimeout: Self.duration(idleTimeout)!),
                sealInterval: Self.duration(sealInterval),
                feedStreams: FeedStreamLimits(maximumStreams: maxStreams, heartbeat: Self.duration(streamHeartbeat)!),
                webhooks: WebhookSettings(
                    enabled: !noWebhooks,
                    retry: WebhookRetry(
                        initial: Self.duration(webhookRetryInitial)!, maximum: Self.duration(webhookRetryMax)!,
                        giveUpAfter: Self.duration(webhookGiveUpAfter)!),
                    timeout: Self.duration(webhookTimeout)!),
                ingest: IngestSettings(
                    enabled: !noIngest, tick: Self.duration(ingestTick)!, parallelFiles: ingestParallel),
                bulkMaximum: bulkMax, publicURL: publicURL.flatMap(URL.init(string:)),
                signIn: SignInLimits(perAddress: signInAddressLimit, perAccount: signInAccountLimit))
            logger.info("starting", metadata: ["database": "\(settings.database.redacted)"])
            try await settings.database.refuseExcessPrivilege(logger: logger)
            let app = try buildApplication(settings, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [app, ShutdownDeadline(Self.duration(shutdownDeadline)!, logger: logger)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            throw Console.report(error, json: false)
        }
    }

    /// Seconds as a duration; nil for 0 (no limit).
    static func duration(_ seconds: Double) -> Duration? {
        seconds == 0 ? nil : .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
