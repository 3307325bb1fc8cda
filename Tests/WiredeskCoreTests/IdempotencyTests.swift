import Foundation
import Synchronization
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Idempotency keys: the key, the change and the answer commit together or not at all.
@Suite struct IdempotencyTests {
    static func answer(_ story: Story) -> IdempotencyStore.Answer {
        .init(status: 201, headers: ["content-type": "application/json"], body: Array(story.id.uuidString.utf8))
    }

    @Test func aFailureMidwayLeavesNeitherTheChangeNorTheKey() async throws {
        try await Newsroom.with { newsroom in
            let keys = IdempotencyStore(database: newsroom.database)
            let fingerprint = IdempotencyStore.fingerprint(["POST", "/v1/stories"], body: [1, 2, 3])
            struct Crash: Error {}
            await #expect(throws: Crash.self) {
                _ = try await keys.answer(user: "rita", key: "k-1", fingerprint: fingerprint, logger: newsroom.logger) {
                    _ = try await newsroom.stories.create(try Newsroom.almaty(), by: newsroom.reporter, logger: newsroom.logger)
                    throw Crash()
                }
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'create'") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM idempotency_keys") == 0)

            // The retry does the work, once.
            let made = Counter()
            let (first, replayed) = try await keys.answer(
                user: "rita", key: "k-1", fingerprint: fingerprint, logger: newsroom.logger
            ) {
                made.add()
                return Self.answer(
                    try await newsroom.stories.create(try Newsroom.almaty(), by: newsroom.reporter, logger: newsroom.logger))
            }
            #expect(!replayed)
            let (again, replayedAgain) = try await keys.answer(
                user: "rita", key: "k-1", fingerprint: fingerprint, logger: newsroom.logger
            ) {
                made.add()
                return Self.answer(
                    try await newsroom.stories.create(try Newsroom.almaty(), by: newsroom.reporter, logger: newsroom.logger))
            }
            #expect(replayedAgain)
            #expect(again == first)
            #expect(made.value == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM idempotency_keys") == 1)
        }
    }

    /// A duplicate waits for the first as long as the first takes, not only as long as a write
    /// waits for a story's row (the server's lock timeout, 2 s), and then gets its answer.
    @Test func aDuplicateWaitsPastTheServersLockTimeoutForTheFirst() async throws {
        try await Newsroom.with { newsroom in
            try await TestDatabase.withClient(newsroom.url, limits: .server) { client in
                // A wait for a connection on a machine busy with the whole suite says nothing of the key.
                let database = Database(client: client, maximumConnections: 20, acquireTimeout: .seconds(60))
                let keys = IdempotencyStore(database: database)
                let fingerprint = IdempotencyStore.fingerprint(["POST", "/slow"], body: [])
                let slow = IdempotencyStore.Answer(status: 200, headers: [:], body: Array("first".utf8))
                async let first = keys.answer(user: "rita", key: "slow", fingerprint: fingerprint, logger: newsroom.logger) {
                    try await Task.sleep(for: .milliseconds(2500))
                    return slow
                }
                // The first holds its key's turn (an advisory lock) before the second asks.
                try await eventually(within: .seconds(60), "the first request holding its key") {
                    try await newsroom.count(
                        """
                        SELECT count(*) FROM pg_locks
                        WHERE locktype = 'advisory' AND classid = \(IdempotencyStore.lockClass) AND granted
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """
                    ) == 1
                }
                let (second, replayed) = try await keys.answer(
                    user: "rita", key: "slow", fingerprint: fingerprint, logger: newsroom.logger
                ) { IdempotencyStore.Answer(status: 200, headers: [:], body: Array("second".utf8)) }
                #expect(replayed)
                #expect(second == slow)
                #expect(try await first.answer == slow)
            }
        }
    }

    @Test func aKeyIsPerUserAndRefusedWithAnotherRequest() async throws {
        try await Newsroom.with { newsroom in
            let keys = IdempotencyStore(database: newsroom.database)
            let one = IdempotencyStore.fingerprint(["POST", "/v1/stories"], body: Array("a".utf8))
            let other = IdempotencyStore.fingerprint(["POST", "/v1/stories"], body: Array("b".utf8))
            #expect(one != other)
            let ok = IdempotencyStore.Answer(status: 200, headers: [:], body: [])
            _ = try await keys.answer(user: "rita", key: "same", fingerprint: one, logger: newsroom.logger) { ok }
            let error = await #expect(throws: WiredeskError.self) {
                _ = try await keys.answer(user: "rita", key: "same", fingerprint: other, logger: newsroom.logger) { ok }
            }
            #expect(error?.kind == .validation)
            #expect(error?.rule == "idempotency-key.reuse")
            // Another user's key of the same name is theirs.
            let (_, replayed) = try await keys.answer(user: "ed", key: "same", fingerprint: other, logger: newsroom.logger) { ok }
            #expect(!replayed)
            for bad in ["", "with space", String(repeating: "k", count: 256), "naïve"] {
                #expect(throws: WiredeskError.self, "\(bad)") { try IdempotencyStore.check(key: bad) }
            }
        }
    }

    @Test func aServerErrorIsNotKeptAndKeysExpire() async throws {
        try await Newsroom.with { newsroom in
            let keys = IdempotencyStore(database: newsroom.database)
            let fingerprint = IdempotencyStore.fingerprint(["POST", "/x"], body: [])
            let failed = IdempotencyStore.Answer(status: 503, headers: [:], body: [])
            let (answer, _) = try await keys.answer(user: "rita", key: "k", fingerprint: fingerprint, logger: newsroom.logger) {
                failed
            }
            #expect(answer == failed)
            #expect(try await newsroom.count("SELECT count(*) FROM idempotency_keys") == 0)

            let ok = IdempotencyStore.Answer(status: 200, headers: [:], body: [7])
            _ = try await keys.answer(user: "rita", key: "k", fingerprint: fingerprint, logger: newsroom.logger) { ok }
            #expect(try await keys.sweep(logger: newsroom.logger) == 0)
            // A day and a second later (as the owner: the app role cannot rewrite a kept answer).
            try await TestDatabase.withClient(try TestDatabase.ownerURL(newsroom.url), maximumConnections: 1) { owner in
                try await owner.query(
                    "UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 second'", logger: newsroom.logger)
            }
            #expect(try await keys.sweep(logger: newsroom.logger) == 1)
        }
    }
}

private final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
