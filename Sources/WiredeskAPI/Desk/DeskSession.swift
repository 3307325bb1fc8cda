import Foundation
import HTTPTypes
public import Hummingbird
public import NIOCore
import WiredeskCore

/// What a desk request carries besides the request: the browser's session, if it has one, and
/// the form it posted, read once (the CSRF check needs it before the handler does).
struct DeskScope: Sendable {
    var session: DeskSession?
    var cookie: String?
    var form = QueryItems.empty
    /// The client's address, for sign-in throttling.
    var address = "unknown"

    @TaskLocal static var current = DeskScope()

    static var session: DeskSession {
        get throws {
            guard let session = current.session else { throw WiredeskError(.unauthenticated, "sign in first") }
            return session
        }
    }

    static var principal: Principal {
        get throws {
            var principal = try session.principal
            principal.requestID = RequestScope.current?.requestID
            return principal
        }
    }

    static var form: QueryItems { current.form }
}

/// Cookies and headers of the desk.
enum DeskCookie {
    static let session = "wd_session"
    /// Before sign-in, the sign-in form's CSRF token is this cookie, repeated in the form.
    static let signIn = "wd_csrf"
}

extension HTTPField.Name {
    static let csrfToken = Self("X-CSRF-Token")!
}

/// Reads the desk session from its cookie and the posted form, and guards every POST against
/// cross-site forgery: the Origin, when sent, must be this server's, and the form (or the
/// `X-CSRF-Token` header of a script's request) must carry the session's token. With `required`,
/// a request without a live session is sent to sign in (a page) or refused (a script's request).
struct DeskSessionMiddleware<Context: RequestContext & RemoteAddressContext>: RouterMiddleware {
    let sessions: SessionStore
    let required: Bool
    let publicURL: URL?

    /// A form is small: a story's copy is at most the API's body limit, which the server's own
    /// middleware has applied already.
    static var formLimit: Int { 1 << 20 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var scope = DeskScope()
        scope.address = context.remoteAddressText
        var request = request
        if request.method == .post {
            try checkOrigin(request)
            if request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
                let body = try await request.collectBody(upTo: Self.formLimit)
                guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
                    throw WiredeskError.malformed(field: "", "the form is not UTF-8")
                }
                scope.form = try QueryItems(encoded: text[...])
            }
        }
        if let cookie = request.cookies[DeskCookie.session]?.value {
            scope.cookie = cookie
            scope.session = try await sessions.session(cookie, logger: RequestScope.logger)
        }
        if required {
            guard let session = scope.session else { return Self.signInFirst(request) }
            if request.method == .post {
                let sent = scope.form["csrf"] ?? request.headers[.csrfToken]
                guard let sent, RandomSecret.same(sent, session.csrf) else {
                    throw WiredeskError(
                        .forbidden, "this form has expired or did not come from the desk: reload the page and try again",
                        rule: "desk.csrf")
                }
            }
        }
        guard var requestScope = RequestScope.current else { throw Problem.internalError }
        if let session = scope.session {
            var principal = session.principal
            principal.requestID = requestScope.requestID
            requestScope.principal = principal
            requestScope.logger[metadataKey: "user"] = .string(principal.name)
            requestScope.user.value = principal.name
        }
        return try await RequestScope.$current.withValue(requestScope) {
            try await DeskScope.$current.withValue(scope) { try await next(request, context) }
        }
    }

    /// A page asked for without a session goes to sign-in and comes back; a script is told 401.
    static func signInFirst(_ request: Request) -> Response {
        guard request.method == .get, request.headers[.csrfToken] == nil else {
            return Response(
                status: .unauthorized, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "sign in first\n")))
        }
        let next = request.uri.description
        let target =
            next == "/desk" ? "/desk/signin" : "/desk/signin?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        return Response(status: .seeOther, headers: [.location: target, .cacheControl: "no-store"])
    }

    /// A browser sends Origin with every POST; another site's page must not post here.
    private func checkOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let expected =
            publicURL.map { url in
                "\(url.scheme ?? "https")://\(url.host ?? "")" + (url.port.map { ":\($0)" } ?? "")
            } ?? request.head.authority.map { "http://\($0)" }
        guard origin == expected else {
            throw WiredeskError(.forbidden, "this form was posted from another site (\(origin.prefix(100)))", rule: "desk.origin")
        }
    }
}

/// A request context that knows the client's address (sign-in attempts are counted by it).
protocol RemoteAddressContext {
    var remoteAddressText: String { get }
}

/// The server's request context: Hummingbird's, plus the client's address.
public struct WiredeskRequestContext: RequestContext, RemoteAddressContext {
    public var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var remoteAddressText: String { remoteAddress?.ipAddress ?? "unknown" }
}
