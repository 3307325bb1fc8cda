public import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import Metrics
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import ServiceLifecycle
public import WiredeskCore

public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    public var database: DatabaseURL
    public var maximumConnections: Int
    /// Request bodies over this many bytes are refused with 413.
    public var maximumBodySize: Int
    /// How long a request waits for a database connection before it is answered 503.
    public var databaseTimeout: Duration
    /// What PostgreSQL holds the request connections to (statement, lock and idle-transaction
    /// timeouts).
    public var databaseLimits: SessionLimits
    /// Slow and idle clients, and how many may be connected.
    public var connections: ConnectionLimits
    /// How often new audit events are chained; nil: not by this server (benchmarks measuring the
    /// chain's cost, tests that seal by hand).
    public var sealInterval: Duration?
    /// Feed streams open at most, and their heartbeat.
    public var feedStreams: FeedStreamLimits
    /// Webhook delivery: whether this server takes part, and how failures are retried.
    public var webhooks: WebhookSettings
    /// Agency feeds: whether this server takes part, and how.
    public var ingest: IngestSettings
    /// The most stories one bulk call changes.
    public var bulkMaximum: Int
    /// Where users reach the server when a proxy is in front (`https://desk.example.org`): with
    /// https, the desk's cookies are Secure, and its forms must come from that origin.
    public var publicURL: URL?
    /// Sign-in attempts per address and per account.
    public var signIn: SignInLimits

    public init(
        host: String = "127.0.0.1", port: Int = 8080, database: DatabaseURL, maximumConnections: Int = 20,
        maximumBodySize: Int = 1 << 20, databaseTimeout: Duration = .seconds(5), databaseLimits: SessionLimits = .server,
        connections: ConnectionLimits = ConnectionLimits(), sealInterval: Duration? = .milliseconds(500),
        feedStreams: FeedStreamLimits = FeedStreamLimits(), webhooks: WebhookSettings = WebhookSettings(),
        ingest: IngestSettings = IngestSettings(), bulkMaximum: Int = BulkChange.defaultMaximum, publicURL: URL? = nil,
        signIn: SignInLimits = SignInLimits()
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.maximumConnections = maximumConnections
        self.maximumBodySize = maximumBodySize
        self.databaseTimeout = databaseTimeout
        self.databaseLimits = databaseLimits
        self.connections = connections
        self.sealInterval = sealInterval
        self.feedStreams = feedStreams
        self.webhooks = webhooks
        self.ingest = ingest
        self.bulkMaximum = bulkMaximum
        self.publicURL = publicURL
        self.signIn = signIn
    }
}

/// The HTTP server, used by `wiredesk serve` and by the tests alike. The database pool runs as a
/// service beside the server; on SIGTERM the server finishes in-flight requests, then the pool
/// closes.
public func buildApplication(_ settings: ServerSettings, logger: Logger) throws -> some ApplicationProtocol {
    let registry = Telemetry.bootstrap()
    let database = Database(
        url: settings.database, maximumConnections: settings.maximumConnections, keepWarm: true,
        acquireTimeout: settings.databaseTimeout, limits: settings.databaseLimits, logger: logger)
    let ingest = IngestService(database: database)
    let api = API(
        database: database, stories: StoryStore(database: database), ingest: ingest, bulkMaximum: settings.bulkMaximum,
        metrics: registry,
        readiness: Readiness { try await database.ping(timeout: .seconds(2), logger: logger) })

    let router = Router(context: WiredeskRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: RequestMetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    // Who is asking is settled before a byte of the body is read: an anonymous upload is refused
    // without being taken in.
    router.add(middleware: AuthMiddleware(users: UserStore(database: database, tokens: TokenCache())))
    router.add(middleware: BodyLimitMiddleware(maximumBytes: settings.maximumBodySize))
    // A retried write is answered as the first one was, by the user and key it was sent with.
    router.add(middleware: IdempotencyMiddleware(keys: IdempotencyStore(database: database)))
    MethodNotAllowed.register(on: router, spec: PackageResources.openapi_yaml)
    IngestRoutes(ingest: ingest).register(on: router)
    AuditRoutes(database: database).register(on: router)
    StoryRoutes(stories: StoryStore(database: database)).register(on: router)
    let feed = FeedStore(database: database)
    let watcher = FeedWatcher(feed: feed, url: settings.database, logger: logger)
    FeedRoutes(feed: feed, watcher: watcher, streams: FeedStreams(limits: settings.feedStreams)).register(on: router)
    let stories = StoryWatcher(database: database, logger: logger)
    DeskRoutes(
        database: database, sessions: SessionStore(database: database, limits: settings.signIn), watcher: stories,
        publicURL: settings.publicURL
    ).register(on: router)
    try api.registerHandlers(
        on: router,
        configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.withoutEscapingSlashes]),
        middlewares: [PlainResponseHeaders(), QueryEncoding()])

    var services: [any Service] = [database.client, watcher, stories]
    if let interval = settings.sealInterval {
        services.append(Periodic.sealer(database: database, interval: interval, logger: logger))
    }
    services.append(Periodic.keySweeper(keys: IdempotencyStore(database: database), logger: logger))
    if settings.webhooks.enabled {
        services.append(
            WebhookWorker(
                store: WebhookStore(database: database), feed: feed, watcher: watcher, url: settings.database,
                settings: settings.webhooks, logger: logger))
    }
    if settings.ingest.enabled {
        services.append(IngestWorker(database: database, url: settings.database, settings: settings.ingest, logger: logger))
    }
    let connections = ConnectionRegistry(maximum: settings.connections.maximumConnections)
    let limits = settings.connections
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionGuard(registry: connections, limits: limits, logger: logger)])),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "wiredesk"),
        services: services,
        logger: logger)
}

/// swift-openapi-runtime percent-encodes header values as URI components
/// (apple/swift-openapi-generator#529, #857), so an ETag of `"3"` would go out as `%223%22`. ETag,
/// Location and Preference-Applied are not URI components: send them as they are.
struct PlainResponseHeaders: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        for name in [HTTPField.Name.eTag, .location, .preferenceApplied] {
            if let value = response.headerFields[name] {
                response.headerFields[name] = value.removingPercentEncoding ?? value
            }
        }
        return (response, responseBody)
    }
}

/// Timestamps as RFC 3339, read with or without fractional seconds, written with them.
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { JSONCoding.formatDate(date) }

    func decode(_ text: String) throws -> Date {
        guard let date = JSONCoding.parseDate(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "not an RFC 3339 timestamp (e.g. 2026-01-07T09:30:00Z)"))
        }
        return date
    }
}

/// Metrics go to one Prometheus registry per process, served at /metrics.
enum Telemetry {
    private static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Prometheus names allow [a-zA-Z0-9_]; swift-metrics labels use dots (http.route).
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitize(name), labels.map { (sanitize($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    static func bootstrap() -> PrometheusCollectorRegistry { registry }

    private static func sanitize(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }
}
