import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import WiredeskCore

/// The editors' desk in the browser (`/desk`): sign-in, the queue, the story page, history and
/// diffs, server-rendered over the same Core calls as the API. Two groups: sign-in and the static
/// files, open to anyone; everything else behind a session.
struct DeskRoutes {
    let database: Database
    let sessions: SessionStore
    let watcher: StoryWatcher
    /// Where users reach the desk, when a proxy in front says so: with https, cookies are Secure.
    let publicURL: URL?

    var stories: StoryStore { StoryStore(database: database) }

    /// The paths the desk authenticates itself, with its sessions: the API's bearer check lets
    /// them through. Spelt plainly only: a path with dots, doubled slashes or escapes is not the
    /// desk's, and meets the bearer check.
    static func owns(_ path: String) -> Bool {
        (path == "/desk" || path.hasPrefix("/desk/")) && !path.contains("/.") && !path.contains("//")
            && !path.contains("%")
    }

    func register<Context: RequestContext & RemoteAddressContext>(on router: Router<Context>) {
        let open = router.group("desk")
            .add(middleware: DeskErrorMiddleware())
            .add(middleware: DeskSessionMiddleware(sessions: sessions, required: false, publicURL: publicURL))
        open.get("signin") { request, _ in try await self.signInPage(request) }
        open.post("signin") { request, _ in try await self.signIn(request) }
        open.get("static/desk.css") { _, _ in Self.asset(PackageResources.desk_css, "text/css; charset=utf-8") }
        open.get("static/desk.js") { _, _ in Self.asset(PackageResources.desk_js, "text/javascript; charset=utf-8") }

        let desk = router.group("desk")
            .add(middleware: DeskErrorMiddleware())
            .add(middleware: DeskSessionMiddleware(sessions: sessions, required: true, publicURL: publicURL))
        desk.post("signout") { _, _ in try await self.signOut() }
        desk.get("events") { _, _ in try self.events() }
        let queue = QueuePage(database: database)
        desk.get("") { request, _ in try await queue.page(request.uri) }
        desk.get("queue") { request, _ in try await queue.results(request.uri) }
        let story = StoryPage(database: database)
        desk.get("stories/{id}") { request, context in
            try await story.show(try Self.id(context), query: try QueryItems(request.uri))
        }
        desk.post("stories/{id}") { _, context in try await story.save(try Self.id(context)) }
        desk.post("stories/{id}/transitions/{transition}") { _, context in
            try await story.transition(try Self.id(context), context.parameters.get("transition") ?? "")
        }
        desk.post("stories/{id}/comments") { _, context in try await story.comment(try Self.id(context)) }
        desk.post("stories/{id}/presence") { _, context in try await story.presence(try Self.id(context)) }
        let history = HistoryPage(database: database)
        desk.get("stories/{id}/history") { _, context in try await history.timeline(try Self.id(context)) }
        desk.get("stories/{id}/diff") { request, context in
            try await history.diff(try Self.id(context), query: try QueryItems(request.uri))
        }
    }

    static func id<Context: RequestContext>(_ context: Context) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw WiredeskError(.notFound, "no such story")
        }
        return id
    }

    // MARK: Signing in and out

    struct SignInView {
        var chrome = DeskPages.Chrome("Sign in", session: nil)
        var csrf: String
        var next: String
        var username = ""
        var error: String?
    }

    private func signInPage(_ request: Request, username: String = "", error: String? = nil, status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let csrf = (request.cookies[DeskCookie.signIn]?.value).flatMap { RandomSecret.isWellFormed($0) ? $0 : nil }
            ?? RandomSecret.make()
        let query = try? QueryItems(request.uri)
        let next = Self.safeNext(DeskScope.form["next"] ?? query?["next"])
        var response = try await DeskPages.render(
            SignInView(csrf: csrf, next: next, username: username, error: error), "signin", status: status)
        response.setCookie(cookie(DeskCookie.signIn, csrf, maxAge: 3600))
        return response
    }

    private func signIn(_ request: Request) async throws -> Response {
        let form = DeskScope.form
        let logger = RequestScope.logger
        guard let sent = form["csrf"], let expected = request.cookies[DeskCookie.signIn]?.value,
            RandomSecret.same(sent, expected)
        else {
            return try await signInPage(request, error: "The sign-in form had expired. Please try again.", status: .forbidden)
        }
        let username = form["username"] ?? ""
        do {
            let (token, _) =
                if let apiToken = form["token"], !apiToken.isEmpty {
                    try await sessions.signIn(token: apiToken, address: DeskScope.current.address, logger: logger)
                } else {
                    try await sessions.signIn(
                        name: username, password: form["password"] ?? "", address: DeskScope.current.address,
                        logger: logger)
                }
            var response = DeskPages.redirect(Self.safeNext(form["next"]))
            response.setCookie(cookie(DeskCookie.session, token, maxAge: Int(SessionStore.lifetime.components.seconds)))
            response.setCookie(cookie(DeskCookie.signIn, "", maxAge: 0))
            return response
        } catch let error as WiredeskError where error.kind == .unauthenticated || error.kind == .throttled {
            var response = try await signInPage(
                request, username: username, error: error.message,
                status: error.kind == .throttled ? .tooManyRequests : .unauthorized)
            if let wait = error.retryAfter { response.headers[.retryAfter] = String(wait) }
            return response
        }
    }

    private func signOut() async throws -> Response {
        if let cookie = DeskScope.current.cookie {
            try await sessions.signOut(cookie, by: try DeskScope.principal, logger: RequestScope.logger)
        }
        var response = DeskPages.redirect("/desk/signin")
        response.setCookie(cookie(DeskCookie.session, "", maxAge: 0))
        return response
    }

    /// HttpOnly and SameSite=Strict, on the desk's paths only; Secure behind https.
    private func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/desk", secure: publicURL?.scheme == "https",
            httpOnly: true, sameSite: .strict)
    }

    /// Where to go after signing in: a desk page, never another site (`//evil.example`).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/desk"), !next.hasPrefix("/desk/signin"), owns(String(next.prefix { $0 != "?" })),
            next.utf8.count <= 2000, !next.contains("\\")
        else { return "/desk" }
        return next
    }

    // MARK: Static files and events

    private static func asset(_ bytes: [UInt8], _ type: String) -> Response {
        Response(
            status: .ok, headers: DeskPages.headers(contentType: type, cache: "public, max-age=300"),
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Server-Sent Events: one `story` event per story change, and a heartbeat every 15 s.
    private func events() throws -> Response {
        try Workflow.checkRead(by: try DeskScope.principal)
        let changes = watcher.changes()
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                // A change, nil for a heartbeat; finished when the server shuts down.
                let (wakes, wake) = AsyncStream.makeStream(of: String?.self, bufferingPolicy: .bufferingNewest(32))
                try await withGracefulShutdownHandler {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await change in changes { wake.yield(change) }
                            wake.finish()
                        }
                        group.addTask {
                            while true {
                                try await Task.sleep(for: .seconds(15))
                                wake.yield(nil)
                            }
                        }
                        defer { group.cancelAll() }
                        for await next in wakes {
                            let line = next.map { "event: story\ndata: \($0)\n\n" } ?? ": heartbeat\n\n"
                            try await writer.write(ByteBuffer(string: line))
                        }
                    }
                } onGracefulShutdown: {
                    wake.finish()
                }
                try await writer.finish(nil)
            })
    }
}
