import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
import WiredeskAPI
import WiredeskCore
import WiredeskTestSupport

/// The ingest worker against real folders and a real HTTP feed, with intervals, timeouts and
/// backoff short enough for a test.
@Suite struct IngestWorkerTests {
    static let settings = IngestSettings(tick: .milliseconds(50), standby: .milliseconds(100))

    /// Runs the worker while `body` runs.
    static func withWorker<T: Sendable>(
        _ newsroom: Newsroom, settings: IngestSettings = settings, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let worker = IngestWorker(database: newsroom.database, url: newsroom.url, settings: settings, logger: TestDatabase.logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await worker.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "wiredesk-feed-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func files(in path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func wireCopy(_ n: Int) -> String {
        "LONDON, Nov 29 (Reuters) - Story number \(n) leads the wire.\n\nIts second paragraph, number \(n), follows.\n"
    }

    @Test func aThousandDroppedFilesGoInOnceAndTheBrokenOnesAsideWithReasons() async throws {
        try await Newsroom.with { newsroom in
            let path = try Self.folder()
            defer { try? FileManager.default.removeItem(atPath: path) }
            // 996 wire stories, an NITF story, a NewsML-G2 message of two items; an XXE attempt and
            // a broken ninjs item.
            for n in 1...996 {
                try Data(Self.wireCopy(n).utf8).write(to: URL(fileURLWithPath: "\(path)/story-\(n).txt"))
            }
            try TestDatabase.fixture("nitf/reuters-almaty-2022-01-07.nitf.xml")
                .write(to: URL(fileURLWithPath: "\(path)/almaty.nitf.xml"))
            try TestDatabase.fixture("newsml-g2/message-two-texts.xml").write(to: URL(fileURLWithPath: "\(path)/message.xml"))
            let xxe = #"<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY e SYSTEM "file:///etc/passwd">]><nitf>&e;</nitf>"#
            try Data(xxe.utf8).write(to: URL(fileURLWithPath: "\(path)/broken-xxe.xml"))
            try Data(#"{"uri": "urn:x", "headline": "#.utf8).write(to: URL(fileURLWithPath: "\(path)/broken.json"))
            try Data("still arriving".utf8).write(to: URL(fileURLWithPath: "\(path)/incoming.txt.part"))
            let store = WireFeedStore(database: newsroom.database)
            _ = try await store.add(
                "desk-drop",
                WireFeedStore.Settings(
                    kind: .folder, location: path, ingestAs: "wirebot", interval: .milliseconds(100), settle: .milliseconds(200)),
                by: newsroom.admin, logger: newsroom.logger)

            try await Self.withWorker(newsroom) {
                try await eventually(within: .seconds(240), "every file taken") {
                    Self.files(in: path + "/done").count == 998 && Self.files(in: path + "/failed").count == 4
                }
            }
            #expect(Self.files(in: path) == ["done", "failed", "incoming.txt.part"])
            #expect(
                Self.files(in: path + "/failed")
                    == ["broken-xxe.xml", "broken-xxe.xml.reason.txt", "broken.json", "broken.json.reason.txt"])
            let reason = try String(contentsOfFile: path + "/failed/broken-xxe.xml.reason.txt", encoding: .utf8)
            #expect(reason.contains("entity declarations are refused"), "\(reason)")
            #expect(!reason.contains("root:"), "a file outside the folder was read")
            #expect(!(try String(contentsOfFile: path + "/failed/broken.json.reason.txt", encoding: .utf8)).isEmpty)

            // Every good item in once: 996 + 1 + the message's 2.
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items WHERE feed = 'desk-drop'") == 999)
            #expect(try await newsroom.count("SELECT count(DISTINCT file_name) FROM ingest_items") == 998)
            #expect(try await newsroom.count("SELECT count(DISTINCT content_hash) FROM ingest_items") == 999)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 999)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items WHERE format IN ('nitf', 'newsml-g2')") == 3)
            #expect(
                try await newsroom.count(
                    "SELECT count(*) FROM audit_events WHERE action = 'create' AND source = 'ingest' AND actor = 'wirebot'")
                    == 999)
            let feed = try await store.feed("desk-drop", logger: newsroom.logger)
            #expect(feed.items == 999 && feed.itemsLastHour == 999 && feed.errors == 2)
            #expect(feed.lastError?.hasPrefix("broken") == true)
            #expect(feed.lagSeconds != nil && feed.failures == 0)
        }
    }

    @Test func aFileDroppedAgainIsADuplicateAndAnOlderAgencyVersionChangesNothing() async throws {
        try await Newsroom.with { newsroom in
            let path = try Self.folder()
            defer { try? FileManager.default.removeItem(atPath: path) }
            @Sendable func ninjs(_ version: Int, _ headline: String) -> Data {
                Data(#"{"uri": "urn:agency:story-1", "version": "\#(version)", "headline": "\#(headline)", "type": "text"}"#.utf8)
            }
            try ninjs(2, "Second take").write(to: URL(fileURLWithPath: "\(path)/v2.json"))
            _ = try await WireFeedStore(database: newsroom.database).add(
                "agency",
                WireFeedStore.Settings(kind: .folder, location: path, ingestAs: "wirebot", interval: .milliseconds(50), settle: .zero),
                by: newsroom.admin, logger: newsroom.logger)
            try await Self.withWorker(newsroom) {
                try await eventually(within: .seconds(60), "v2 taken") { Self.files(in: path + "/done") == ["v2.json"] }
                try ninjs(2, "Second take").write(to: URL(fileURLWithPath: "\(path)/v2-again.json"))
                try ninjs(1, "First take").write(to: URL(fileURLWithPath: "\(path)/v1.json"))
                try await eventually(within: .seconds(60), "the rest taken") { Self.files(in: path + "/done").count == 3 }
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 1)
            let headline = try await newsroom.count("SELECT count(*) FROM stories WHERE content->>'headline' = 'Second take'")
            #expect(headline == 1)
            #expect(Self.files(in: path + "/failed").isEmpty)
        }
    }

    @Test func aPolledFeedIsFollowedThroughNewItemsAVersionAnErrorAndATimeout() async throws {
        try await Newsroom.with { newsroom in
            let server = FeedServer()
            server.publish(FeedServer.item("a", version: 1, headline: "A one"))
            server.publish(FeedServer.item("b", version: 1, headline: "B one"))
            try await server.run { url in
                let store = WireFeedStore(database: newsroom.database)
                _ = try await store.add(
                    "partner",
                    WireFeedStore.Settings(
                        // 1.5 s: under the hang (2 s) and the trickle (4 s), and above what a poll takes on
                        // two cores with the rest of the suite running (500 ms timed out at times).
                        kind: .http, location: url + "?limit=1", ingestAs: "wirebot", interval: .milliseconds(100),
                        timeout: .milliseconds(1500), maxBackoff: .milliseconds(400), credentials: "Bearer feed-secret"),
                    by: newsroom.admin, logger: newsroom.logger)
                try await Self.withWorker(newsroom) {
                    try await eventually(within: .seconds(60), "a and b in") {
                        try await newsroom.count("SELECT count(*) FROM stories") == 2
                    }
                    // The feed breaks three times, then moves on: a new item, and a new version of one.
                    // The last break, a body that trickles in, is cut off by the timeout too.
                    server.failNext([.hang, .status(500), .trickle])
                    try await eventually(within: .seconds(60), "both failures seen") { server.failuresLeft == 0 }
                    server.publish(FeedServer.item("c", version: 1, headline: "C one"))
                    server.publish(FeedServer.item("a", version: 2, headline: "A two"))
                    try await eventually(within: .seconds(60), "c and a's new version in") {
                        try await newsroom.count("SELECT count(*) FROM ingest_items WHERE feed = 'partner'") == 4
                    }
                    try await eventually(within: .seconds(60), "the feed healthy and caught up") {
                        let feed = try await store.feed("partner", logger: newsroom.logger)
                        return feed.failures == 0 && server.notModified > 0
                    }
                }
                let feed = try await store.feed("partner", logger: newsroom.logger)
                #expect(feed.items == 4)
                #expect(feed.errors >= 3)
                #expect(feed.lastError == "the feed did not answer in time")
                #expect(server.requests.allSatisfy { $0.authorization == "Bearer feed-secret" })
                #expect(server.requests.contains { $0.ifNoneMatch != nil })
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 3)
            #expect(try await newsroom.count("SELECT count(*) FROM stories WHERE content->>'headline' = 'A two'") == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM stories WHERE content->>'headline' = 'A one'") == 0)
        }
    }

    @Test func aPolledNewsMessageIsTakenOnceAndANewVersionOfAnItemUpdatesItsStory() async throws {
        try await Newsroom.with { newsroom in
            let server = FeedServer()
            let message = String(decoding: try TestDatabase.fixture("newsml-g2/message-two-texts.xml"), as: UTF8.self)
            server.serve(document: Data(message.utf8), modified: "Fri, 07 Jan 2022 08:00:00 GMT")
            try await server.run { url in
                let store = WireFeedStore(database: newsroom.database)
                _ = try await store.add(
                    "g2",
                    WireFeedStore.Settings(
                        kind: .http, location: url.replacingOccurrences(of: "/feed", with: "/message"), ingestAs: "wirebot",
                        interval: .milliseconds(50)),
                    by: newsroom.admin, logger: newsroom.logger)
                try await Self.withWorker(newsroom) {
                    try await eventually(within: .seconds(60), "the message's two items in, then not fetched again") {
                        try await newsroom.count("SELECT count(*) FROM stories") == 2 && server.notModified >= 2
                    }
                    // The agency moves the oil story on: version 2, a new headline.
                    let updated = message.replacingOccurrences(
                        of: #"guid="tag:wire.example.com,2022:text:oil" version="1""#,
                        with: #"guid="tag:wire.example.com,2022:text:oil" version="2""#
                    ).replacingOccurrences(
                        of: "<headline>Oil output at Tengiz reduced, Chevron says</headline>",
                        with: "<headline>Oil output at Tengiz cut further, Chevron says</headline>")
                    server.serve(document: Data(updated.utf8), modified: "Fri, 07 Jan 2022 09:00:00 GMT")
                    try await eventually(within: .seconds(60), "the new version applied") {
                        try await newsroom.count(
                            "SELECT count(*) FROM stories WHERE content->>'headline' = 'Oil output at Tengiz cut further, Chevron says'")
                            == 1
                    }
                }
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 2)
            // Three items: two, then the oil story's second version; the unchanged bitcoin item is a duplicate.
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items WHERE feed = 'g2'") == 3)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'wire-update'") == 1)
            let feed = try await WireFeedStore(database: newsroom.database).feed("g2", logger: newsroom.logger)
            #expect(feed.items == 3 && feed.failures == 0 && feed.lastError == nil)
        }
    }

    @Test func aFeedThatCannotBeReachedBacksOffAndNeverHoldsUpAnother() async throws {
        try await Newsroom.with { newsroom in
            let path = try Self.folder()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let store = WireFeedStore(database: newsroom.database)
            // Nothing listens on port 9 of loopback here (discard is not run): connections are refused.
            _ = try await store.add(
                "gone",
                WireFeedStore.Settings(
                    kind: .http, location: "http://127.0.0.1:9/feed", ingestAs: "wirebot", interval: .milliseconds(50),
                    timeout: .milliseconds(300), maxBackoff: .seconds(30)),
                by: newsroom.admin, logger: newsroom.logger)
            _ = try await store.add(
                "missing-folder",
                WireFeedStore.Settings(kind: .folder, location: path + "/nope", ingestAs: "wirebot", interval: .milliseconds(50)),
                by: newsroom.admin, logger: newsroom.logger)
            _ = try await store.add(
                "good",
                WireFeedStore.Settings(kind: .folder, location: path, ingestAs: "wirebot", interval: .milliseconds(50), settle: .zero),
                by: newsroom.admin, logger: newsroom.logger)
            try await Self.withWorker(newsroom) {
                try await eventually(within: .seconds(60), "the broken feeds failed twice") {
                    let feeds = try await store.list(logger: newsroom.logger)
                    return feeds.filter { $0.name != "good" }.allSatisfy { $0.failures >= 2 }
                }
                try Data(Self.wireCopy(1).utf8).write(to: URL(fileURLWithPath: "\(path)/one.txt"))
                try await eventually(within: .seconds(60), "the good feed's file in") { Self.files(in: path + "/done") == ["one.txt"] }
            }
            let gone = try await store.feed("gone", logger: newsroom.logger)
            #expect(gone.lastError?.isEmpty == false)
            // The wait doubles: after n failures in a row, 50 ms × 2^n.
            let wait = gone.dueAt.timeIntervalSince(try #require(gone.lastPolledAt))
            #expect(wait >= min(0.05 * pow(2, Double(gone.failures)), 30) - 0.01)
            #expect(try await store.feed("missing-folder", logger: newsroom.logger).lastError?.contains("cannot read the drop folder") == true)
        }
    }
}

extension IngestWorkerTests {
    /// One Wiredesk takes another's output: the downstream newsroom polls the upstream's
    /// `GET /v1/feed` with a subscriber's token and follows its cursor.
    @Test func oneWiredeskTakesAnothersFeed() async throws {
        try await APIHarness.with { upstream in
            let first = try await upstream.publishAlmaty()
            let port = try #require(upstream.client.port)
            let token = try #require(upstream.tokens["partner"])
            try await Newsroom.with { downstream in
                let store = WireFeedStore(database: downstream.database)
                _ = try await store.add(
                    "upstream",
                    WireFeedStore.Settings(
                        kind: .http, location: "http://127.0.0.1:\(port)/v1/feed?limit=1", ingestAs: "wirebot",
                        interval: .milliseconds(100), credentials: "Bearer \(token)"),
                    by: downstream.admin, logger: downstream.logger)
                try await Self.withWorker(downstream) {
                    try await eventually(within: .seconds(60), "the published story downstream") {
                        try await downstream.count("SELECT count(*) FROM stories") == 1
                    }
                }
                // A restart resumes from the position it kept: only what is new comes.
                let second = try await upstream.publishAlmaty()
                try await Self.withWorker(downstream) {
                    try await eventually(within: .seconds(60), "the second story downstream") {
                        try await downstream.count("SELECT count(*) FROM stories") == 2
                    }
                }
                #expect(try await store.feed("upstream", logger: downstream.logger).items == 2)
                let uris = try await downstream.client.query(
                    "SELECT agency_uri FROM ingest_items ORDER BY received_at", logger: downstream.logger)
                var seen: [String] = []
                for try await uri in uris.decode(String.self) { seen.append(uri) }
                #expect(seen == ["urn:wiredesk:story:\(first)", "urn:wiredesk:story:\(second)"])
                let headlines = try await downstream.count(
                    "SELECT count(*) FROM stories WHERE content->>'headline' LIKE 'Fresh violence in Almaty%' AND state = 'draft'")
                #expect(headlines == 2)
                let feed = try await store.feed("upstream", logger: downstream.logger)
                #expect(feed.items == 2 && feed.failures == 0 && feed.lastError == nil)
            }
        }
    }
}

/// A partner's feed on a free port, shaped as Wiredesk's own `GET /v1/feed`: ninjs items in
/// pages (`limit`), `nextCursor`, and an ETag per page that it honours with 304. It can be told
/// to fail the next requests.
final class FeedServer: Sendable {
    enum Failure: Sendable {
        case status(Int)
        /// Answers only after the client has given up.
        case hang
        /// Sends its headers at once and its body a byte at a time, for longer than the client waits.
        case trickle
    }

    struct Request: Sendable {
        var after: String?
        var authorization: String?
        var ifNoneMatch: String?
    }

    private struct State {
        /// Served at /message with Last-Modified, instead of pages, when set.
        var document: (body: Data, modified: String)?
        var items: [Data] = []
        var failures: [Failure] = []
        var requests: [Request] = []
        var notModified = 0
    }

    private let state = Mutex(State())

    static func item(_ id: String, version: Int, headline: String) -> Data {
        Data(#"{"uri": "urn:partner:\#(id)", "version": "\#(version)", "type": "text", "headline": "\#(headline)"}"#.utf8)
    }

    func publish(_ item: Data) { state.withLock { $0.items.append(item) } }
    func serve(document: Data, modified: String) { state.withLock { $0.document = (document, modified) } }
    func failNext(_ failures: [Failure]) { state.withLock { $0.failures = failures } }
    var failuresLeft: Int { state.withLock { $0.failures.count } }
    var requests: [Request] { state.withLock { $0.requests } }
    var notModified: Int { state.withLock { $0.notModified } }

    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/message") { request, _ -> Response in
            let since = request.headers[.ifModifiedSince]
            let document = self.state.withLock { state in
                state.requests.append(Request(after: nil, authorization: request.headers[.authorization], ifNoneMatch: nil))
                return state.document
            }
            guard let document else { return Response(status: .notFound) }
            if since == document.modified {
                self.state.withLock { $0.notModified += 1 }
                return Response(status: .notModified)
            }
            return Response(
                status: .ok,
                headers: [.contentType: "application/vnd.iptc.g2.newsmessage+xml", .lastModified: document.modified],
                body: .init(byteBuffer: ByteBuffer(bytes: document.body)))
        }
        router.get("/feed") { request, _ -> Response in
            let after = request.uri.queryParameters.get("after")
            let limit = request.uri.queryParameters.get("limit").flatMap(Int.init) ?? 100
            let seen = Request(
                after: after, authorization: request.headers[.authorization], ifNoneMatch: request.headers[.ifNoneMatch])
            let (failure, page, start, count) = self.state.withLock { state -> (Failure?, [Data], Int, Int) in
                state.requests.append(seen)
                let failure = state.failures.isEmpty ? nil : state.failures.removeFirst()
                let start = min(after.flatMap(Int.init) ?? 0, state.items.count)
                return (failure, Array(state.items[start..<min(start + limit, state.items.count)]), start, state.items.count)
            }
            switch failure {
            case .status(let code): return Response(status: .init(code: code))
            case .hang:
                try await Task.sleep(for: .seconds(2))
                return Response(status: .serviceUnavailable)
            case .trickle:
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody { writer in
                        for _ in 0..<20 {
                            try await writer.write(ByteBuffer(string: " "))
                            try await Task.sleep(for: .milliseconds(200))
                        }
                        try await writer.write(ByteBuffer(string: #"{"items": [], "nextCursor": "0"}"#))
                        try await writer.finish(nil)
                    })
            case nil: break
            }
            let next = start + page.count
            let etag = "\"\(start)-\(next)-\(count)\""
            if seen.ifNoneMatch == etag {
                self.state.withLock { $0.notModified += 1 }
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            let items = page.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",")
            let body = #"{"items": [\#(items)], "nextCursor": "\#(next)"}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json", .eTag: etag],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return try await LocalServer.run(router, label: "feed server") { port in
            try await body("http://127.0.0.1:\(port)/feed")
        }
    }
}
