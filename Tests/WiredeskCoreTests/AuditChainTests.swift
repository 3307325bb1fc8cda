import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import WiredeskCore
import WiredeskTestSupport

/// The audit trail is bound into one hash chain. A superuser who edits, deletes, inserts or
/// reorders an event without re-hashing is named by `verify`; one who re-hashes everything, or cuts
/// the tail, is caught by an anchor kept outside the database.
@Suite struct AuditChainTests {
    /// Seals until nothing is left unsealed. Other tests' transactions on the same server can hold
    /// the horizon back for a moment, so this waits for them.
    static func sealAll(_ newsroom: Newsroom) async throws -> AuditChain.Report {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            try await AuditChain.seal(database: newsroom.database, logger: newsroom.logger)
            let report = try await AuditChain.verify(database: newsroom.database, logger: newsroom.logger)
            if report.unsealed == 0 { return report }
            guard ContinuousClock.now < deadline else {
                Issue.record("\(report.unsealed) events still unsealed after 60 s")
                return report
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A few stories through the workflow and a user event: a trail of some twenty events.
    static func someHistory(_ newsroom: Newsroom) async throws {
        for _ in 0..<3 {
            _ = try await newsroom.story(through: [.submit, .requestChanges, .submit, .approve])
        }
        _ = try await newsroom.users.add("nina", role: .reporter, by: UserStore.console, logger: newsroom.logger)
    }

    /// The events in chain order, as the attacker sees them.
    static func eventIDs(_ newsroom: Newsroom) async throws -> [Int64] {
        try await newsroom.database.rows("SELECT id FROM audit_events ORDER BY txid, id", logger: newsroom.logger)
            .map { try $0.decode(Int64.self) }
    }

    /// Swaps two events' places in the trail's order, by swapping their transaction ids.
    static func swapPlaces(_ first: Int64, _ second: Int64, _ newsroom: Newsroom) async throws {
        try await asAttacker(
            newsroom,
            [
                """
                UPDATE audit_events e SET txid = o.txid
                FROM audit_events o
                WHERE (e.id, o.id) IN ((\(first), \(second)), (\(second), \(first)))
                """
            ])
    }

    /// Runs `sql` as the superuser with the append-only triggers off for its session.
    static func asAttacker(_ newsroom: Newsroom, _ statements: [String]) async throws {
        try await TestDatabase.withClient(try TestDatabase.ownerURL(newsroom.url), maximumConnections: 1) { client in
            try await client.withConnection { connection in
                try await connection.query("SET session_replication_role = replica", logger: newsroom.logger)
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: newsroom.logger)
                }
            }
        }
    }

    static func broken(
        _ newsroom: Newsroom, anchor: AuditChain.Head? = nil
    ) async throws -> AuditChain.Broken? {
        do {
            _ = try await AuditChain.verify(anchor: anchor, database: newsroom.database, logger: newsroom.logger)
            return nil
        } catch let broken as AuditChain.Broken {
            return broken
        }
    }

    @Test func aSealedTrailVerifiesToItsHead() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            let report = try await Self.sealAll(newsroom)
            let count = try await Self.eventIDs(newsroom).count
            #expect(report.verified == Int64(count))
            #expect(report.unsealed == 0)
            let head = try #require(try await AuditChain.head(database: newsroom.database, logger: newsroom.logger))
            #expect(head == report.head)
            #expect(head.position == Int64(count))
            #expect(try AuditChain.Head(parsing: head.description) == head)
            let anchored = try await AuditChain.verify(anchor: head, database: newsroom.database, logger: newsroom.logger)
            #expect(anchored.anchorMatched == true)

            // New events chain on from the head; the old anchor still holds.
            _ = try await newsroom.story()
            let later = try await Self.sealAll(newsroom)
            #expect(later.verified == Int64(count + 1))
            let again = try await AuditChain.verify(anchor: head, database: newsroom.database, logger: newsroom.logger)
            #expect(again.anchorMatched == true)
        }
    }

    @Test func anEditedEventIsNamed() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            _ = try await Self.sealAll(newsroom)
            let victim = try await Self.eventIDs(newsroom)[7]
            try await Self.asAttacker(newsroom, ["UPDATE audit_events SET actor = 'ed' WHERE id = \(victim)"])
            let broken = try #require(try await Self.broken(newsroom))
            #expect(broken.eventId == victim)
            #expect(broken.message.contains("changed after it was sealed"))
        }
    }

    @Test func aDeletedEventIsNamed() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            _ = try await Self.sealAll(newsroom)
            let victim = try await Self.eventIDs(newsroom)[5]
            try await Self.asAttacker(newsroom, ["DELETE FROM audit_events WHERE id = \(victim)"])
            let broken = try #require(try await Self.broken(newsroom))
            #expect(broken.eventId == victim)
            #expect(broken.message.contains("deleted"))
        }
    }

    @Test func anInsertedEventIsNamed() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            _ = try await Self.sealAll(newsroom)
            let after = try await Self.eventIDs(newsroom)[4]
            // A forged approval slipped in right after a real event, in its transaction.
            try await Self.asAttacker(
                newsroom,
                [
                    """
                    INSERT INTO audit_events (id, at, txid, actor, actor_role, source, action, reason)
                    OVERRIDING SYSTEM VALUE
                    SELECT 900000, at, txid, 'ed', 'editor', 'cli', 'approve', 'looks fine'
                    FROM audit_events WHERE id = \(after)
                    """
                ])
            let broken = try #require(try await Self.broken(newsroom))
            #expect(broken.eventId == 900000)
            #expect(broken.message.contains("not in the chain"))
        }
    }

    @Test func aReorderedEventIsNamed() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            _ = try await Self.sealAll(newsroom)
            let ids = try await Self.eventIDs(newsroom)
            let (first, second) = (ids[3], ids[6])
            try await Self.swapPlaces(first, second, newsroom)
            let broken = try #require(try await Self.broken(newsroom))
            #expect(broken.eventId == first)
        }
    }

    /// Moved into an earlier seal's range, an event is not mistaken for one added from outside: the
    /// event that belongs there is named as moved.
    @Test func anEventMovedAcrossSealsIsNamedAsMoved() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            _ = try await Self.sealAll(newsroom)
            let sealedFirst = try await Self.eventIDs(newsroom)
            _ = try await newsroom.story(through: [.submit])
            _ = try await Self.sealAll(newsroom)
            let (first, second) = (sealedFirst[2], try #require(try await Self.eventIDs(newsroom).last))
            try await Self.swapPlaces(first, second, newsroom)
            let broken = try #require(try await Self.broken(newsroom))
            #expect(broken.eventId == first)
            #expect(broken.message.contains("deleted or moved"), "\(broken.message)")
        }
    }

    @Test func aTruncatedTailPassesAloneButNotAgainstTheAnchor() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            _ = try await Self.sealAll(newsroom)
            _ = try await newsroom.story(through: [.submit])
            _ = try await Self.sealAll(newsroom)
            let anchor = try #require(try await AuditChain.head(database: newsroom.database, logger: newsroom.logger))
            // The last seal and its events vanish: what is left is a consistent, shorter chain.
            try await Self.asAttacker(
                newsroom,
                [
                    """
                    DELETE FROM audit_events WHERE id IN (
                        SELECT unnest(event_ids) FROM audit_seals WHERE seq = (SELECT max(seq) FROM audit_seals))
                    """,
                    "DELETE FROM audit_seals WHERE seq = (SELECT max(seq) FROM audit_seals)",
                ])
            #expect(try await Self.broken(newsroom) == nil)
            let broken = try #require(try await Self.broken(newsroom, anchor: anchor))
            #expect(broken.message.contains("before the anchor"))
        }
    }

    @Test func aFullRehashPassesAloneButNotAgainstTheAnchor() async throws {
        try await Newsroom.with { newsroom in
            try await Self.someHistory(newsroom)
            _ = try await Self.sealAll(newsroom)
            let anchor = try #require(try await AuditChain.head(database: newsroom.database, logger: newsroom.logger))
            let victim = try await Self.eventIDs(newsroom)[2]
            // The superuser changes an event, throws the seals away and seals everything again.
            try await Self.asAttacker(
                newsroom,
                [
                    "UPDATE audit_events SET reason = 'approved by phone' WHERE id = \(victim)",
                    "DELETE FROM audit_seals",
                ])
            try await TestDatabase.withClient(try TestDatabase.ownerURL(newsroom.url)) { client in
                let superuser = Database(client: client, maximumConnections: 20)
                try await AuditChain.seal(database: superuser, logger: newsroom.logger)
            }
            #expect(try await Self.broken(newsroom) == nil, "a full re-hash is consistent in itself")
            let broken = try #require(try await Self.broken(newsroom, anchor: anchor))
            #expect(broken.position == anchor.position)
            #expect(broken.message.contains("rewritten"))
        }
    }

    /// Events are chained in the order their transactions finished: an event whose transaction is
    /// still open holds back the events committed after it, instead of being passed over.
    @Test func anOpenTransactionHoldsBackLaterEventsUntilItEnds() async throws {
        try await Newsroom.with { newsroom in
            _ = try await Self.sealAll(newsroom)
            let story = try await newsroom.story()
            let opened = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            async let slow: Void = newsroom.database.transaction(logger: newsroom.logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO audit_events (actor, actor_role, source, story_id, action, reason)
                    VALUES ('ed', 'editor', 'cli', \(story.id), 'note', 'slow')
                    """,
                    logger: newsroom.logger)
                opened.continuation.yield()
                for await _ in release.stream { break }
            }
            for await _ in opened.stream { break }
            let later = try await newsroom.story()
            try await AuditChain.seal(database: newsroom.database, logger: newsroom.logger)
            let sealed = try await newsroom.database.rows(
                "SELECT count(*) FROM audit_seals WHERE (SELECT max(id) FROM audit_events WHERE story_id = \(later.id)) = ANY (event_ids)",
                logger: newsroom.logger)
            #expect(try sealed.first?.decode(Int.self) == 0, "an event sealed while an older transaction was open")
            release.continuation.yield()
            try await slow
            let report = try await Self.sealAll(newsroom)
            #expect(report.unsealed == 0)
            #expect(report.verified == Int64(try await Self.eventIDs(newsroom).count))
        }
    }

    /// Transaction ids are ordered as numbers: 9 before 10 before 100 (a fresh cluster crosses
    /// 999 to 1000 within its first tests).
    @Test func eventsAreChainedInTransactionOrderNotAsText() async throws {
        try await Newsroom.with { newsroom in
            try await Self.asAttacker(
                newsroom,
                ["9", "10", "100"].map {
                    """
                    INSERT INTO audit_events (at, txid, actor, actor_role, source, action)
                    VALUES (now(), '\($0)', 'ada', 'admin', 'cli', 'note')
                    """
                })
            let report = try await Self.sealAll(newsroom)
            #expect(report.verified == Int64(newsroom.everyone.count + 3))
        }
    }

    /// Sixteen writers and two sealers at once: every event ends up in the chain exactly once.
    @Test func sixteenConcurrentWritersKeepTheTrailValid() async throws {
        try await Newsroom.with { newsroom in
            let done = ManagedAtomicFlag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        while !done.isSet {
                            try await AuditChain.seal(database: newsroom.database, logger: newsroom.logger)
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { writers in
                    for _ in 0..<16 {
                        writers.addTask {
                            for _ in 0..<4 {
                                _ = try await newsroom.story(through: [.submit, .approve])
                            }
                        }
                    }
                    try await writers.waitForAll()
                }
                done.set()
                try await group.waitForAll()
            }
            let report = try await Self.sealAll(newsroom)
            #expect(report.verified == Int64(try await Self.eventIDs(newsroom).count))
            #expect(report.verified == Int64(newsroom.everyone.count + 16 * 4 * 3))
            let duplicates = try await newsroom.database.rows(
                "SELECT count(*) - count(DISTINCT id) FROM (SELECT unnest(event_ids) AS id FROM audit_seals) s",
                logger: newsroom.logger)
            #expect(try duplicates.first?.decode(Int.self) == 0)
        }
    }
}

/// A flag set once, read from many tasks.
final class ManagedAtomicFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
