import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import WiredeskCore

/// What the handlers of one request need to know about it. The generated OpenAPI handlers get no
/// request context, so middleware binds this as a task-local for them.
struct RequestScope: Sendable {
    var requestID: String
    var logger: Logger
    var principal: Principal?
    /// Who the request turned out to be from, for the access log written after it.
    let user = RequestUser()

    @TaskLocal static var current: RequestScope?

    /// The authenticated user, for handlers behind `AuthMiddleware`.
    static func principal() throws -> Principal {
        guard let principal = current?.principal else {
            throw WiredeskError(.unauthenticated, "authentication required")
        }
        return principal
    }

    /// The authenticated user, who must be one who reads the desk's stories (`Workflow.readers`).
    @discardableResult
    static func reader() throws -> Principal {
        let principal = try principal()
        try Workflow.checkRead(by: principal)
        return principal
    }

    static var logger: Logger { current?.logger ?? Logger(label: "wiredesk") }
}

/// Set once authentication knows who is asking; read by the access log.
final class RequestUser: Sendable {
    private let name = Mutex<String?>(nil)

    var value: String? {
        get { name.withLock { $0 } }
        set { name.withLock { $0 = newValue } }
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

/// Gives every request an id — the client's `X-Request-Id` when it is well-formed, a new UUID
/// otherwise — puts it on the logger and on the response.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let requestID = request.headers[.requestID].flatMap(Self.wellFormed) ?? UUID.random().uuidString.lowercased()
        var context = context
        context.logger[metadataKey: "request.id"] = .string(requestID)
        context.logger[metadataKey: "hb.request.id"] = nil
        let scope = RequestScope(requestID: requestID, logger: context.logger)
        var response = try await RequestScope.$current.withValue(scope) {
            try await next(request, context)
        }
        response.headers[.requestID] = requestID
        return response
    }

    /// Up to 128 letters, digits and `-_.:`; anything else could smuggle text into logs.
    static func wellFormed(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ byte in
                ASCII.isAlphanumeric(byte) || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A
            })
        else { return nil }
        return value
    }
}

/// Checks `Authorization: Bearer <token>` against the stored token hashes, or the tokens this
/// server verified in the last half second (`TokenCache`), so a revoked token or a disabled user
/// is refused within that time on every server. Every path needs a token except the few
/// the spec marks public (`security: []`), matched exactly: a path spelt another way
/// (`//v1/stories`, `/v1/../v1`, `%2F`) is not public, so it never reaches a handler unchecked.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let users: UserStore

    /// The operations with `security: []` in openapi.yaml (a test holds the two together).
    static var publicPaths: Set<String> { ["/health", "/ready", "/openapi.yaml", "/metrics"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // The desk signs its users in with sessions of its own (DeskRoutes).
        if Self.publicPaths.contains(request.uri.path) || DeskRoutes.owns(request.uri.path) {
            return try await next(request, context)
        }
        guard var scope = RequestScope.current else { throw Problem.internalError }
        guard let header = request.headers[.authorization], header.utf8.count <= 1024 else {
            throw WiredeskError(.unauthenticated, "authentication required: send Authorization: Bearer <token>")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw WiredeskError(.unauthenticated, "the Authorization header must be: Bearer <token>")
        }
        var principal = try await users.authenticate(
            token: String(parts[1].trimmingCharacters(in: .whitespaces)), source: .api, logger: scope.logger)
        principal.requestID = scope.requestID
        scope.principal = principal
        scope.logger[metadataKey: "user"] = .string(principal.name)
        scope.user.value = principal.name
        return try await RequestScope.$current.withValue(scope) {
            try await next(request, context)
        }
    }
}

/// One line per request: id, user, method, route, status, duration and response size. Never a
/// header's value or a body: tokens and copy stay out of logs.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let scope = RequestScope.current
        let logger = scope?.logger ?? context.logger
        // The line's fields cost more than a read's own work: none is made unless it is written.
        guard logger.logLevel <= .info else { return try await next(request, context) }
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "route": .string(context.endpointPath ?? "unmatched"),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .string(String(format: "%.2f", Double(elapsed.nanoseconds) / 1_000_000)),
            "bytes": .stringConvertible(response.body.contentLength ?? 0),
        ]
        if let user = scope?.user.value { metadata["user"] = .string(user) }
        logger.info("request", metadata: metadata)
        return response
    }
}

/// Refuses request bodies over the limit with 413 before anything reads them.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBytes {
            throw HTTPError(.contentTooLarge)
        }
        var request = request
        _ = try await request.collectBody(upTo: maximumBytes)
        return try await next(request, context)
    }
}

/// `/ready` answers from a database check at most a second old, and concurrent callers share one
/// check: a load balancer polling it must not take a pool connection per call.
actor Readiness {
    private let probe: @Sendable () async throws -> Void
    private let maximumAge: Duration
    private var last: (at: ContinuousClock.Instant, error: (any Error)?)?
    private var running: Task<(any Error)?, Never>?

    init(maximumAge: Duration = .seconds(1), probe: @escaping @Sendable () async throws -> Void) {
        self.maximumAge = maximumAge
        self.probe = probe
    }

    func check() async throws {
        if let last, ContinuousClock.now - last.at < maximumAge {
            if let error = last.error { throw error }
            return
        }
        let task: Task<(any Error)?, Never>
        if let running {
            task = running
        } else {
            let probe = self.probe
            task = Task {
                do {
                    try await probe()
                    return nil
                } catch {
                    return error
                }
            }
            running = task
        }
        let error = await task.value
        if running == task {
            running = nil
            last = (ContinuousClock.now, error)
        }
        if let error { throw error }
    }
}
