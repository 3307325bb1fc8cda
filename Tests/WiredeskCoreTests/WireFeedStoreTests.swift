import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

@Suite struct WireFeedStoreTests {
    static func http(_ url: String = "https://wire.example.com/feed", credentials: String? = nil) -> WireFeedStore.Settings {
        WireFeedStore.Settings(kind: .http, location: url, ingestAs: "wirebot", interval: .seconds(1), credentials: credentials)
    }

    @Test func anAdminAddsAFeedAndItsCredentialsAreNeverShown() async throws {
        try await Newsroom.with { newsroom in
            let store = WireFeedStore(database: newsroom.database)
            let feed = try await store.add(
                "reuters", Self.http(credentials: "Bearer s3cret-token"), by: newsroom.admin, logger: newsroom.logger)
            #expect(feed.hasCredentials)
            #expect(feed.kind == .http && feed.ingestAs == "wirebot" && !feed.paused && feed.failures == 0)
            let listed = try await store.list(logger: newsroom.logger)
            #expect(listed == [feed])
            let json = String(decoding: try JSONCoding.encode(listed), as: UTF8.self)
            #expect(!json.contains("s3cret"))
            // The worker, and only the worker, reads them.
            let due = try await store.due(logger: newsroom.logger)
            #expect(due.map(\.settings.credentials) == ["Bearer s3cret-token"])

            let events = try await newsroom.events(subject: "feed reuters")
            #expect(events.map { $0.action } == ["feed.add"])
            #expect(!events.contains { ($0.reason ?? "").contains("s3cret") })
        }
    }

    @Test func whatCannotWorkIsRefusedWhenTheFeedIsAdded() async throws {
        try await Newsroom.with { newsroom in
            let store = WireFeedStore(database: newsroom.database)
            func refused(_ name: String, _ settings: WireFeedStore.Settings, by principal: Principal? = nil) async -> WiredeskError? {
                do {
                    _ = try await store.add(name, settings, by: principal ?? newsroom.admin, logger: newsroom.logger)
                    return nil
                } catch let error as WiredeskError {
                    return error
                } catch {
                    return WiredeskError(.unavailable, "\(error)")
                }
            }
            #expect(await refused("Reuters!", Self.http())?.fields.map(\.field) == ["name"])
            #expect(await refused("r", Self.http("ftp://wire.example.com"))?.fields.map(\.field) == ["location"])
            let inURL = await refused("r", Self.http("https://user:pw@wire.example.com/feed"))
            #expect(inURL?.message.contains("credentials do not belong in the URL") == true)
            #expect(inURL?.message.contains("pw") == false)
            #expect(
                await refused("r", WireFeedStore.Settings(kind: .folder, location: "drop/in", ingestAs: "wirebot"))?.fields
                    .map(\.field) == ["location"])
            #expect(
                await refused(
                    "r", WireFeedStore.Settings(kind: .folder, location: "/srv/drop", ingestAs: "wirebot", credentials: "x:y"))?
                    .fields.map(\.field) == ["credentials"])
            #expect(
                await refused("r", WireFeedStore.Settings(kind: .http, location: "https://w.example", ingestAs: "wirebot", interval: .zero))?
                    .fields.map(\.field) == ["interval"])
            // The user must exist and be allowed to take copy in.
            #expect(await refused("r", WireFeedStore.Settings(kind: .http, location: "https://w.example", ingestAs: "nobody"))?.kind == .notFound)
            #expect(await refused("r", WireFeedStore.Settings(kind: .http, location: "https://w.example", ingestAs: "pat"))?.kind == .forbidden)
            #expect(await refused("r", Self.http(), by: newsroom.editor)?.kind == .forbidden)

            _ = try await store.add("r", Self.http(), by: newsroom.admin, logger: newsroom.logger)
            #expect(await refused("r", Self.http())?.kind == .conflict)
            #expect(try await store.list(logger: newsroom.logger).map(\.name) == ["r"])
        }
    }

    @Test func aPausedFeedIsNotDueAndResumesAtOnce() async throws {
        try await Newsroom.with { newsroom in
            let store = WireFeedStore(database: newsroom.database)
            _ = try await store.add("afp", Self.http(), by: newsroom.admin, logger: newsroom.logger)
            #expect(try await store.due(logger: newsroom.logger).map(\.name) == ["afp"])
            #expect(try await store.pause("afp", by: newsroom.admin, logger: newsroom.logger).paused)
            #expect(try await store.due(logger: newsroom.logger).isEmpty)
            try await store.failed("afp", error: "boom", logger: newsroom.logger)
            let resumed = try await store.resume("afp", by: newsroom.admin, logger: newsroom.logger)
            #expect(!resumed.paused && resumed.failures == 0)
            #expect(try await store.due(logger: newsroom.logger).map(\.name) == ["afp"])
            try await store.remove("afp", by: newsroom.admin, logger: newsroom.logger)
            await #expect(throws: WiredeskError.self) { try await store.feed("afp", logger: newsroom.logger) }
            let actions = try await newsroom.events(subject: "feed afp").map { $0.action }
            #expect(actions == ["feed.add", "feed.pause", "feed.resume", "feed.remove"])
        }
    }

    @Test func failuresBackOffDoublingUpToTheLongestWait() async throws {
        try await Newsroom.with { newsroom in
            let store = WireFeedStore(database: newsroom.database)
            var settings = Self.http()
            settings.interval = .seconds(10)
            settings.maxBackoff = .seconds(35)
            _ = try await store.add("dpa", settings, by: newsroom.admin, logger: newsroom.logger)
            var waits: [Double] = []
            for n in 1...4 {
                try await store.failed("dpa", error: "HTTP 500\nline two", logger: newsroom.logger)
                let feed = try await store.feed("dpa", logger: newsroom.logger)
                #expect(feed.failures == n)
                #expect(feed.lastError == "HTTP 500 line two")
                waits.append((feed.dueAt.timeIntervalSince(try #require(feed.lastPolledAt))).rounded())
            }
            #expect(waits == [20, 35, 35, 35])
            var round = WireFeedStore.Round()
            round.items = 2
            round.lastItem = "a.xml"
            round.caughtUp = true
            round.etag = "\"v2\""
            try await store.succeeded("dpa", round, logger: newsroom.logger)
            let feed = try await store.feed("dpa", logger: newsroom.logger)
            #expect(feed.failures == 0 && feed.items == 2 && feed.lastItem == "a.xml" && feed.lagSeconds != nil)
            #expect((feed.dueAt.timeIntervalSince(try #require(feed.lastPolledAt))).rounded() == 10)
            #expect(try await store.due(logger: newsroom.logger).isEmpty)
        }
    }
}
