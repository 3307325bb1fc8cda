import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WiredeskCore

/// `GET /v1/feed` and `GET /v1/feed/stream`, as described in openapi.yaml, written by hand: a
/// conditional GET is answered from the feed's positions alone (304), the items are ninjs
/// documents passed on as they are, and the stream is Server-Sent Events. They run behind the
/// same middleware as every route (request id, problem documents, bearer token).
struct FeedRoutes {
    let feed: FeedStore
    let watcher: FeedWatcher
    let streams: FeedStreams

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/v1/feed") { request, _ -> Response in
            try await self.read(request)
        }
        router.get("/v1/feed/stream") { request, _ -> Response in
            try await self.stream(request)
        }
    }

    /// A reconnecting client says where it was with `Last-Event-ID`, which wins over `after`
    /// (empty, as the SSE standard has it, is none).
    private func stream(_ request: Request) async throws -> Response {
        try FeedStore.authorize(try RequestScope.principal())
        let query = try QueryItems(request.uri)
        let start: FeedStore.Cursor
        if let last = request.headers[Self.lastEventID], !last.isEmpty {
            start = try FeedStore.Cursor(token: last, field: "Last-Event-ID")
        } else {
            start = try query["after"].map { try FeedStore.Cursor(token: $0) } ?? .start
        }
        guard streams.enter() else {
            throw WiredeskError(
                .unavailable,
                "this server has \(streams.limits.maximumStreams) feed streams open; retry shortly, or follow GET /v1/feed",
                rule: "feed.streams")
        }
        let stream = FeedStream(
            feed: feed, watcher: watcher, heartbeat: streams.limits.heartbeat, logger: RequestScope.logger)
        let streams = self.streams
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                defer { streams.leave() }
                try await stream.send(from: start, to: &writer)
            })
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    private func read(_ request: Request) async throws -> Response {
        try FeedStore.authorize(try RequestScope.principal())
        let query = try QueryItems(request.uri)
        let after = try query["after"].map { try FeedStore.Cursor(token: $0) } ?? .start
        let limit = try query.limit(default: 100)
        let logger = RequestScope.logger
        if let wanted = request.headers[.ifNoneMatch] {
            let etag = try await feed.etag(after: after, limit: limit, logger: logger)
            if Self.matches(wanted, etag) {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
        }
        let page = try await feed.page(after: after, limit: limit, logger: logger)
        let body = try await Offload.run {
            try JSONCoding.encode(
                JSONValue.object(["items": .array(page.items), "nextCursor": .string(page.next.token)]))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .eTag: page.etag],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// `If-None-Match`: `*` or a list of entity tags; weak ones compare weakly (RFC 9110 13.1.2).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/\(etag)"
        }
    }
}
