import Foundation
import HTTPTypes
import Hummingbird
import Logging
import WiredeskCore

/// What the handlers of one request need to know about it. The generated OpenAPI handlers get no
/// request context, so middleware binds this as a task-local for them.
struct RequestScope: Sendable {
    var requestID: String
    var logger: Logger
    var principal: Principal?

    @TaskLocal static var current: RequestScope?

    /// The authenticated user, for handlers behind `AuthMiddleware`.
    static func principal() throws -> Principal {
        guard let principal = current?.principal else {
            throw WiredeskError(.unauthenticated, "authentication required")
        }
        return principal
    }

    static var logger: Logger { current?.logger ?? Logger(label: "wiredesk") }
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
        let requestID = request.headers[.requestID].flatMap(Self.wellFormed) ?? UUID().uuidString.lowercased()
        var context = context
        context.logger[metadataKey: "request.id"] = .string(requestID)
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
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A
            })
        else { return nil }
        return value
    }
}

/// Checks `Authorization: Bearer <token>` on every `/v1` route against the stored token hashes,
/// on every request, so a revoked token or a disabled user is refused at once.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let users: UserStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.uri.path == "/v1" || request.uri.path.hasPrefix("/v1/") else {
            return try await next(request, context)
        }
        guard var scope = RequestScope.current else { throw Problem.internalError }
        guard let header = request.headers[.authorization], header.count <= 1024 else {
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
        return try await RequestScope.$current.withValue(scope) {
            try await next(request, context)
        }
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
