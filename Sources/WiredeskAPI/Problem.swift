import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime
import WiredeskCore

/// An RFC 9457 problem document. Its `type` is stable per kind of error, so clients can switch on it.
struct Problem: Error, Encodable, Sendable {
    var type: String
    var title: String
    var status: Int
    var detail: String?
    /// The request path the problem occurred on.
    var instance: String?
    var rule: String?
    var field: String?
    var errors: [WiredeskError.FieldError]?
    var currentVersion: Int?
    var requestId: String?
    /// Sent as headers, not in the body.
    var headers: HTTPFields = [:]

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, rule, field, errors, currentVersion, requestId
    }

    static let typeBase = "https://wiredesk.dev/problems/"

    init(_ status: HTTPResponse.Status, kind: String, detail: String?) {
        self.type = Self.typeBase + kind
        self.title = status.reasonPhrase
        self.status = status.code
        self.detail = detail
    }

    init(_ error: WiredeskError) {
        let status: HTTPResponse.Status =
            switch error.kind {
            case .malformed: .badRequest
            case .validation, .unmetRequirement: .unprocessableContent
            case .notFound: .notFound
            case .conflict: error.currentVersion == nil ? .conflict : .preconditionFailed
            case .forbidden: .forbidden
            case .invalidTransition, .embargo: .conflict
            case .unauthenticated: .unauthorized
            case .throttled: .tooManyRequests
            case .unavailable: .serviceUnavailable
            }
        self.init(status, kind: error.problemKind, detail: error.message)
        rule = error.rule
        errors = error.fields.isEmpty ? nil : error.fields
        field = error.fields.first.map(\.field).flatMap { $0.isEmpty ? nil : $0 }
        currentVersion = error.currentVersion
        switch error.kind {
        case .unauthenticated: headers[.wwwAuthenticate] = #"Bearer realm="wiredesk""#
        case .unavailable: headers[.retryAfter] = "2"
        case .throttled: headers[.retryAfter] = String(error.retryAfter ?? 60)
        default: break
        }
    }

    static let preconditionRequired = Problem(
        .preconditionRequired, kind: "precondition-required",
        detail: #"send If-Match with the ETag of the version you read, e.g. If-Match: "3""#)

    static let internalError = Problem(.internalServerError, kind: "internal", detail: "internal error; see the server log")

    /// Whatever was thrown, as a problem a client may see: our own errors say what went wrong;
    /// anything unexpected becomes a bare 500 and is logged, never shown.
    static func from(_ error: any Error, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as WiredeskError:
            return Problem(error)
        case let error as DecodingError:
            return Problem(WiredeskError.decoding(error))
        case let error as ServerError:
            if error.httpStatus.kind == .serverError {
                if error.underlyingError is ServerError || error.underlyingError is DecodingError
                    || error.underlyingError is WiredeskError || error.underlyingError is Problem
                {
                    return from(error.underlyingError, logger: logger)
                }
                logger.error("request failed", metadata: ["error": "\(String(reflecting: error.underlyingError))"])
                return internalError
            }
            if error.underlyingError is DecodingError || error.underlyingError is WiredeskError {
                return from(error.underlyingError, logger: logger)
            }
            // The spec requires If-Match on every write; a write without it is the precondition
            // that is required, not a malformed request.
            if error.causeDescription.contains("'If-Match' is missing") { return preconditionRequired }
            // The runtime's own refusals: a missing body, a wrong content type, a bad parameter.
            let kind = error.httpStatus == .unsupportedMediaType ? "unsupported-media-type" : "malformed"
            return Problem(error.httpStatus, kind: kind, detail: error.causeDescription)
        case let error as any HTTPResponseError where error.status.code < 500:
            let kind =
                switch error.status {
                case .contentTooLarge: "too-large"
                case .notFound: "not-found"
                case .methodNotAllowed: "method-not-allowed"
                default: "malformed"
                }
            let detail =
                switch error.status {
                case .contentTooLarge: "the request body is over the limit"
                case .notFound: "no such route"
                default: error.status.reasonPhrase
                }
            return Problem(error.status, kind: kind, detail: detail)
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return internalError
        }
    }

    func response(requestID: String?, path: String?) -> Response {
        var problem = self
        problem.requestId = requestID
        problem.instance = path
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(problem)) ?? Data(#"{"type":"about:blank","title":"Error","status":500}"#.utf8)
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(
            status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error below it into a problem+json response.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let scope = RequestScope.current
            return Problem.from(error, logger: scope?.logger ?? context.logger)
                .response(requestID: scope?.requestID, path: request.uri.path)
        }
    }
}
