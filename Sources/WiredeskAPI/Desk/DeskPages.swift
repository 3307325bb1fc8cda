import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOCore
import WiredeskCore

/// The desk's HTML: Mustache templates compiled into the binary (Package.swift's `deskFiles`),
/// rendered from small view structs. `{{…}}` escapes; the few `{{{…}}}` are HTML this server made
/// (search snippets, word diffs), escaped where their text came in.
enum DeskPages {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("signin", PackageResources.signin_mustache),
            ("queue", PackageResources.queue_mustache), ("queue_results", PackageResources.queue_results_mustache),
            ("story", PackageResources.story_mustache), ("field", PackageResources.field_mustache),
            ("presence", PackageResources.presence_mustache),
            ("history", PackageResources.history_mustache), ("diff", PackageResources.diff_mustache),
            ("error", PackageResources.error_mustache),
        ]
        for (name, bytes) in templates {
            // The templates are part of the build: one that does not parse is a bug the tests see.
            try! library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        return library
    }()

    /// A page or a fragment. Pages are never cached: they hold what one user may see now. Rendered
    /// off the event loops: a story page is tens of thousands of lookups by reflection.
    static func render<View: Sendable>(_ view: View, _ template: String, status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        let html = try await Offload.run { library.render(view, withTemplate: template) ?? "" }
        return Response(
            status: status, headers: headers(contentType: "text/html; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func headers(contentType: String, cache: String = "no-store") -> HTTPFields {
        [
            .contentType: contentType, .cacheControl: cache,
            // Our own scripts and styles only; pictures may be the agency's.
            .contentSecurityPolicy:
                "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
                + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff", .referrerPolicy: "same-origin",
        ]
    }

    /// What every page shows around its content: who is signed in, and the token its forms carry.
    struct Chrome {
        var title: String
        var user: String?
        var role: String?
        var csrf: String?

        init(_ title: String, session: DeskSession? = DeskScope.current.session) {
            self.title = title
            user = session?.principal.name
            role = session?.principal.role.rawValue
            csrf = session?.csrf
        }
    }

    struct ErrorView {
        var chrome: Chrome
        var heading: String
        var message: String
        var rule: String?
    }

    /// An error as a page: what went wrong and the rule that refused, in words the desk uses.
    static func error(_ error: WiredeskError) async throws -> Response {
        let problem = Problem(error)
        let heading =
            switch error.kind {
            case .notFound: "Not found"
            case .forbidden: "Not allowed"
            case .unauthenticated: "Sign in first"
            case .throttled: "Too many attempts"
            case .unavailable: "The desk is unavailable"
            default: "That did not work"
            }
        var response = try await render(
            ErrorView(chrome: Chrome(heading), heading: heading, message: error.message, rule: error.rule), "error",
            status: HTTPResponse.Status(code: problem.status))
        for field in problem.headers { response.headers.append(field) }
        return response
    }
}

/// Turns whatever a desk handler throws into an HTML page (never a problem document, never a
/// 5xx for bad input): the server's ProblemMiddleware is for the API.
struct DeskErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as WiredeskError {
            return try await DeskPages.error(error)
        } catch let error as any HTTPResponseError where error.status.code < 500 {
            // The framework's own refusals (a body over the limit): their status, as a page.
            return try await DeskPages.render(
                DeskPages.ErrorView(
                    chrome: .init(error.status.reasonPhrase), heading: "That did not work",
                    message: error.status.reasonPhrase, rule: nil), "error", status: error.status)
        } catch {
            RequestScope.logger.error("desk request failed", metadata: ["error": "\(error)"])
            return try await DeskPages.render(
                DeskPages.ErrorView(
                    chrome: .init("Error"), heading: "Something went wrong", message: "The error is in the server's log.",
                    rule: nil), "error", status: .internalServerError)
        }
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
