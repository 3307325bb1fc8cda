import Foundation
import Synchronization
import Testing
import WiredeskAPI
import WiredeskCore
import WiredeskTestSupport

/// Webhooks as a partner receives them: signed, in feed order, at least once with a stable id,
/// retried with a growing wait, and given up on (visibly) after a while.
@Suite struct WebhookTests {
    /// Runs `workers` webhook workers (each with its own feed watcher, as separate servers have)
    /// over the newsroom while `body` runs.
    static func delivering<T: Sendable>(
        _ newsroom: Newsroom, retry: WebhookRetry, workers: Int = 1, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                let (watcher, worker) = Self.worker(newsroom, retry: retry)
                group.addTask { try await watcher.run() }
                group.addTask { try await worker.run() }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// One server's worker and watcher, running until the task is cancelled.
    static func running(_ newsroom: Newsroom, retry: WebhookRetry) -> Task<Void, any Error> {
        let (watcher, worker) = Self.worker(newsroom, retry: retry)
        return Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                group.addTask { try await worker.run() }
                try await group.waitForAll()
            }
        }
    }

    static func worker(_ newsroom: Newsroom, retry: WebhookRetry) -> (FeedWatcher, WebhookWorker) {
        let feed = FeedStore(database: newsroom.database)
        let watcher = FeedWatcher(feed: feed, url: newsroom.url, poll: .milliseconds(200), logger: newsroom.logger)
        let worker = WebhookWorker(
            store: WebhookStore(database: newsroom.database), feed: feed, watcher: watcher, url: newsroom.url,
            settings: WebhookSettings(retry: retry, timeout: .seconds(10), standby: .milliseconds(100)),
            logger: newsroom.logger)
        return (watcher, worker)
    }

    static func published(_ newsroom: Newsroom) async throws -> Story {
        try await newsroom.story(through: [.submit, .approve, .publish])
    }

    static func wait(for count: Int, _ receiver: WebhookReceiver, within: Duration = .seconds(60)) async throws {
        try await eventually(within: within, "\(count) deliveries (got \(receiver.deliveries.count))") {
            receiver.deliveries.count >= count
        }
    }

    @Test func aKillReachesTheFeedTheStreamAndAWebhookReceiverWhoseSignatureChecks() async throws {
        let secret = WebhookSecret.generate().text
        let receiver = WebhookReceiver(secret: secret)
        try await receiver.run { url in
            let settings = WebhookSettings(retry: WebhookRetry(initial: .milliseconds(20)), standby: .milliseconds(100))
            try await APIHarness.with(webhooks: settings) { api in
                let newsroom = api.newsroom
                _ = try await WebhookStore(database: newsroom.database).add(
                    url: url, secret: secret, by: newsroom.admin, logger: newsroom.logger)
                let stream = try FeedStreamAPITests.open(api)
                #expect(try await onOwnThread { try stream.status() } == 200)

                let id = try await api.publishAlmaty()
                try await Self.wait(for: 1, receiver)
                #expect(try await api.transition(id, "kill", as: "ed", version: 4, reason: "Legal: withdraw").status == .ok)
                try await Self.wait(for: 2, receiver)

                let deliveries = receiver.deliveries
                #expect(deliveries.map(\.type) == ["story.published", "story.killed"])
                #expect(deliveries.allSatisfy { $0.signatureValid })
                #expect(deliveries[0].data["pubStatus"] as? String == "usable")
                #expect(deliveries[0].data["uri"] as? String == "urn:wiredesk:story:\(id)")
                let kill = deliveries[1].data
                #expect(kill["pubStatus"] as? String == "canceled")
                #expect((kill["edNote"] as? String)?.contains("Legal: withdraw") == true)
                #expect(kill["bodies"] == nil && kill["headlines"] == nil)

                // The stream had both, with the webhook's ids; the feed serves the publish as a tombstone.
                let streamed = try await onOwnThread { [try stream.nextEvent(), try stream.nextEvent()] }
                #expect(streamed.map { $0?.id } == deliveries.map(\.id))
                #expect(try FeedStreamAPITests.item(streamed[1])["pubStatus"] as? String == "canceled")
                let page = try await FeedAPITests.page(api, count: 2)
                let items = try #require(try page.json["items"] as? [[String: Any]])
                #expect(items.allSatisfy { $0["pubStatus"] as? String == "canceled" && $0["bodies"] == nil })
            }
        }
    }

    @Test func aReceiverThatFailsThreeTimesGetsTheEntryOnTheFourthTryAndTheNextOnlyAfterIt() async throws {
        let secret = WebhookSecret.generate().text
        let receiver = WebhookReceiver(secret: secret) { n in n <= 3 ? 503 : 204 }
        try await receiver.run { url in
            try await Newsroom.with { newsroom in
                let store = WebhookStore(database: newsroom.database)
                let (endpoint, _) = try await store.add(url: url, secret: secret, by: newsroom.admin, logger: newsroom.logger)
                let retry = WebhookRetry(initial: .milliseconds(30), maximum: .seconds(5), giveUpAfter: .seconds(600))
                try await Self.delivering(newsroom, retry: retry) {
                    _ = try await Self.published(newsroom)
                    _ = try await Self.published(newsroom)
                    try await Self.wait(for: 5, receiver)
                    try await Task.sleep(for: .milliseconds(200))
                }
                let deliveries = receiver.deliveries
                #expect(deliveries.count == 5, "\(deliveries.map(\.id))")
                #expect(deliveries.map(\.status) == [503, 503, 503, 204, 204])
                // One entry, one id, on every try; the second entry only once the first went through.
                #expect(Set(deliveries[0..<4].map(\.id)).count == 1)
                #expect(deliveries[4].id != deliveries[0].id)
                #expect(deliveries.allSatisfy { $0.signatureValid })
                // The waits double: at least 30, 60 and 120 ms (the database's clock sets them).
                let gaps = zip(deliveries[1..<4], deliveries[0..<3]).map { $0.at - $1.at }
                for (gap, least) in zip(gaps, [30, 60, 120]) {
                    #expect(gap >= .milliseconds(least), "\(gaps)")
                }

                let status = try await store.endpoint(endpoint.id, logger: newsroom.logger)
                #expect(status.state == .active)
                #expect(status.delivered == 2)
                #expect(status.pending == 0)
                #expect(status.attempts == 0 && status.retryAt == nil && status.failingSince == nil)
                #expect(status.lastError == "HTTP 503: answer 503")
                #expect(status.after == deliveries[4].id)
            }
        }
    }

    @Test func anEndpointFailingLongerThanAllowedIsDisabledShownAndResumedWhenEnabled() async throws {
        let secret = WebhookSecret.generate().text
        let healthy = Switch()
        let receiver = WebhookReceiver(secret: secret) { _ in healthy.on ? 200 : 500 }
        try await receiver.run { url in
            try await Newsroom.with { newsroom in
                let store = WebhookStore(database: newsroom.database)
                let (endpoint, _) = try await store.add(url: url, secret: secret, by: newsroom.admin, logger: newsroom.logger)
                let retry = WebhookRetry(initial: .milliseconds(10), maximum: .milliseconds(50), giveUpAfter: .milliseconds(500))
                try await Self.delivering(newsroom, retry: retry) {
                    let story = try await Self.published(newsroom)
                    // The entry reaches the worker once released, which transactions of every
                    // database on the cluster can hold back under the full suite (as in FeedTests).
                    let seen = Mutex<WebhookStore.Endpoint?>(nil)
                    try await eventually(
                        within: .seconds(90),
                        "the endpoint disabled (\(receiver.deliveries.count) attempts received; last seen \(String(describing: seen.withLock { $0 })))"
                    ) {
                        let now = try await store.endpoint(endpoint.id, logger: newsroom.logger)
                        seen.withLock { $0 = now }
                        return now.state == .disabled
                    }
                    let disabled = try await store.endpoint(endpoint.id, logger: newsroom.logger)
                    #expect(disabled.disabledAt != nil)
                    #expect(disabled.attempts >= 2)  // the first failure, and one past the allowed age
                    #expect(disabled.pending == 1 && disabled.delivered == 0)
                    #expect(disabled.lastError == "HTTP 500: answer 500")
                    let attempts = receiver.deliveries.count
                    try await Task.sleep(for: .milliseconds(400))
                    #expect(receiver.deliveries.count == attempts, "a disabled endpoint was sent to")

                    // Enabled again, it gets what it missed, from where it stopped.
                    healthy.on = true
                    _ = try await store.enable(endpoint.id, by: newsroom.admin, logger: newsroom.logger)
                    try await Self.wait(for: attempts + 1, receiver)
                    let last = try #require(receiver.deliveries.last)
                    #expect(last.status == 200)
                    #expect(last.data["uri"] as? String == "urn:wiredesk:story:\(story.id.uuidString.lowercased())")
                    try await eventually(within: .seconds(10), "the delivery recorded") {
                        try await store.endpoint(endpoint.id, logger: newsroom.logger).delivered == 1
                    }
                }
                let actions = try await newsroom.count(
                    "SELECT count(*) FROM audit_events WHERE action IN ('webhook.add', 'webhook.enable') AND actor = 'ada'")
                #expect(actions == 2)
            }
        }
    }

    /// The deliverer's session ends under it: it must notice, take the lock again and go on, and
    /// still stop when asked. (Across a real database restart, postgres-nio never answered the
    /// worker's check on its closed session and the server did not stop on SIGTERM: the fault
    /// suite's postgres_restart scenario caught it; a statement on a closed connection is refused now.)
    @Test func aDelivererWhoseSessionClosesTakesTheLockAgainAndStillStops() async throws {
        let secret = WebhookSecret.generate().text
        let receiver = WebhookReceiver(secret: secret)
        try await receiver.run { url in
            try await Newsroom.with { newsroom in
                _ = try await WebhookStore(database: newsroom.database).add(
                    url: url, secret: secret, by: newsroom.admin, logger: newsroom.logger)
                let running = Self.running(newsroom, retry: WebhookRetry(initial: .milliseconds(20)))
                let holder = """
                    SELECT pid FROM pg_locks
                    WHERE locktype = 'advisory' AND classid = 468 AND granted  -- 0x1D4, WebhookWorker.lock
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """
                try await eventually(within: .seconds(60), "the worker holding the lock") {
                    try await newsroom.count("SELECT count(*) FROM (\(unescaped: holder)) h") == 1
                }
                // As the superuser: the tests' servers connect as the newsroom's owner.
                let pid = try await newsroom.count("SELECT h.pid FROM (\(unescaped: holder)) h")
                let ended = try await TestDatabase.withClient(try TestDatabase.ownerURL(newsroom.url)) { client in
                    try await Newsroom.count("SELECT pg_terminate_backend(\(Int32(pid)))::int", on: client)
                }
                #expect(ended == 1)

                _ = try await Self.published(newsroom)
                try await Self.wait(for: 1, receiver)
                let stopping = ContinuousClock.now
                running.cancel()
                _ = try? await running.value
                #expect(ContinuousClock.now - stopping < .seconds(10))
            }
        }
    }

    @Test func oneServerDeliversAtATimeAndAnotherTakesOverWhenItStops() async throws {
        let secret = WebhookSecret.generate().text
        let receiver = WebhookReceiver(secret: secret)
        try await receiver.run { url in
            try await Newsroom.with { newsroom in
                _ = try await WebhookStore(database: newsroom.database).add(
                    url: url, secret: secret, by: newsroom.admin, logger: newsroom.logger)
                let retry = WebhookRetry(initial: .milliseconds(20))
                let leader = Self.running(newsroom, retry: retry)
                _ = try await Self.published(newsroom)
                try await Self.wait(for: 1, receiver)  // the first server is delivering
                try await Self.delivering(newsroom, retry: retry, workers: 2) {
                    for _ in 0..<6 { _ = try await Self.published(newsroom) }
                    try await Self.wait(for: 7, receiver)
                    leader.cancel()
                    _ = try? await leader.value
                    for _ in 0..<2 { _ = try await Self.published(newsroom) }
                    try await Self.wait(for: 9, receiver)
                    try await Task.sleep(for: .milliseconds(300))
                }
                let ids = receiver.deliveries.map(\.id)
                #expect(ids.count == 9, "\(ids)")
                #expect(Set(ids).count == ids.count, "an entry was sent twice: \(ids)")
                let feed = try await FeedStore(database: newsroom.database).page(logger: newsroom.logger)
                #expect(ids == feed.entries.map(\.position.token))
            }
        }
    }
}

/// A flag a receiver reads while a test flips it.
final class Switch: Sendable {
    private let value = Atomic<Bool>(false)
    var on: Bool {
        get { value.load(ordering: .relaxed) }
        set { value.store(newValue, ordering: .relaxed) }
    }
}
