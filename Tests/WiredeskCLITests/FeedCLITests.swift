import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `wiredesk feed`, and the feeds worked by running servers.
@Suite struct FeedCLITests {
    typealias CLI = CLITests.CLI

    @Test func anOperatorManagesFeedsAndNeverSeesTheirCredentialsAgain() async throws {
        try await Newsroom.with { newsroom in
            let wiredesk = CLI(url: newsroom.url)
            let added = try await wiredesk(
                "feed", "add", "reuters", "--kind", "http", "--location", "https://wire.example.com/g2", "--ingest-as", "wirebot",
                "--interval", "30", "--credentials-stdin", stdin: "reuters-user:pa55word\n")
            #expect(added.status == 0, "\(added.err)")
            #expect(added.out == "added feed reuters (http https://wire.example.com/g2)\n")
            let folder = try await wiredesk(
                "feed", "add", "desk", "--kind", "folder", "--location", "/srv/wire/in", "--ingest-as", "wirebot", "--format",
                "ninjs", "--json")
            #expect(folder.status == 0, "\(folder.err)")

            let list = try await wiredesk("feed", "list")
            #expect(list.status == 0)
            #expect(list.out.contains("desk             folder  active   /srv/wire/in"), "\(list.out)")
            #expect(list.out.contains("reuters          http    active   https://wire.example.com/g2 (with credentials)"), "\(list.out)")
            let status = try await wiredesk("feed", "status", "reuters")
            #expect(status.out.contains("state        active, as wirebot"), "\(status.out)")
            #expect(status.out.contains("items        0 in the last hour, 0 in all"))
            #expect(status.out.contains("lag          not caught up yet"))
            let json = try await wiredesk("feed", "status", "--json")
            let feeds = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]])
            #expect(feeds.map { $0["name"] as? String } == ["desk", "reuters"])
            #expect(feeds.map { $0["hasCredentials"] as? Bool } == [false, true])
            for output in [added.out, folder.out, list.out, status.out, json.out] {
                #expect(!output.contains("pa55word") && !output.contains("reuters-user"))
            }

            #expect(try await wiredesk("feed", "pause", "reuters").out == "paused feed reuters\n")
            #expect(try await wiredesk("feed", "list").out.contains("reuters          http    paused"))
            #expect(try await wiredesk("feed", "resume", "reuters").out == "resumed feed reuters\n")
            #expect(try await wiredesk("feed", "remove", "desk").out == "removed feed desk\n")
            let gone = try await wiredesk("feed", "remove", "desk")
            #expect(gone.status == 3 && gone.err.contains("no feed desk"), "\(gone.err)")
            let inURL = try await wiredesk(
                "feed", "add", "x", "--kind", "http", "--location", "https://u:secretpw@wire.example.com", "--ingest-as", "wirebot")
            #expect(inURL.status == 2 && inURL.err.contains("--credentials-stdin") && !inURL.err.contains("secretpw"), "\(inURL.err)")
            let notAdmin = try await wiredesk(
                "feed", "add", "x", "--kind", "folder", "--location", "/srv/x", "--ingest-as", "wirebot", "--as", "ed")
            #expect(notAdmin.status != 0 && notAdmin.err.contains("only admin may manage feeds"), "\(notAdmin.err)")
            let noStdin = try await wiredesk(
                "feed", "add", "x", "--kind", "http", "--location", "https://w.example", "--ingest-as", "wirebot",
                "--credentials-stdin", stdin: "")
            #expect(noStdin.status != 0 && noStdin.err.contains("stdin had no line"), "\(noStdin.err)")
        }
    }

    /// Two servers over one database: one works the feeds at a time, and every file goes in once.
    @Test func twoServersIngestEachDroppedFileOnce() async throws {
        try await Newsroom.with { newsroom in
            let path = NSTemporaryDirectory() + "wiredesk-two-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let store = WireFeedStore(database: newsroom.database)
            _ = try await store.add(
                "drop",
                WireFeedStore.Settings(kind: .folder, location: path, ingestAs: "wirebot", interval: .milliseconds(50), settle: .zero),
                by: newsroom.admin, logger: newsroom.logger)
            // A feed that fails all the time, with credentials that must never surface.
            _ = try await store.add(
                "broken",
                WireFeedStore.Settings(
                    kind: .http, location: "http://127.0.0.1:9/feed", ingestAs: "wirebot", interval: .milliseconds(50),
                    timeout: .milliseconds(200), maxBackoff: .milliseconds(200), credentials: "Bearer top-secret-feed-token"),
                by: newsroom.admin, logger: newsroom.logger)
            let servers = [
                try await ServerProcess(newsroom, ["--ingest-tick", "0.05", "--log-level", "info"]),
                try await ServerProcess(newsroom, ["--ingest-tick", "0.05", "--log-level", "info"]),
            ]
            defer { servers.forEach { $0.stop() } }
            for n in 1...300 {
                let copy = "PARIS, Nov 29 (AFP) - Dispatch \(n) from the wire.\n\nMore on dispatch \(n).\n"
                try Data(copy.utf8).write(to: URL(fileURLWithPath: "\(path)/dispatch-\(n).txt"))
            }
            try await eventually(within: .seconds(120), "every file taken") {
                ((try? FileManager.default.contentsOfDirectory(atPath: path + "/done")) ?? []).count == 300
            }
            #expect(!FileManager.default.fileExists(atPath: path + "/failed"))
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items WHERE feed = 'drop'") == 300)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 300)
            #expect(try await newsroom.count("SELECT count(DISTINCT file_name) FROM ingest_items") == 300)

            // The worker's server shows each feed on /metrics; neither shows the credentials.
            var pages: [String] = []
            try await eventually(within: .seconds(30), "the feed's gauges on /metrics") {
                pages = try await servers.asyncMap { try await $0.metrics() }
                return pages.contains { $0.contains(#"wiredesk_wire_feed_items{feed="drop"} 300"#) }
            }
            #expect(pages.contains { $0.contains(#"wiredesk_wire_feed_failures_in_a_row{feed="broken"}"#) })
            for (server, page) in zip(servers, pages) {
                #expect(!page.contains("top-secret") && !server.log.contains("top-secret"))
            }
            // The lease: one server worked the feeds, the other stood by.
            #expect(servers.filter { $0.log.contains("working the agency feeds from this server") }.count == 1)
            #expect(!servers.contains { $0.log.contains("cannot move") })
        }
    }
}

extension ServerProcess {
    func metrics() async throws -> String {
        let socket = try RawHTTP(port: port)
        try socket.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return await socket.response() ?? ""
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
