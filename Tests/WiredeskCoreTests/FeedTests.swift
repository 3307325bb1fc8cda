import Foundation
import PostgresNIO
import Synchronization
import Testing
import WiredeskCore
import WiredeskTestSupport

/// The feed: written with each publish, correction and kill, read in commit order exactly once.
@Suite struct FeedTests {
    /// The `count` items after `cursor`, following cursors, and where they end. Entries are
    /// released once every older transaction has ended, in any database of the cluster: while
    /// other tests hold transactions open, they come a little later.
    static func drain(
        _ feed: FeedStore, from cursor: FeedStore.Cursor = .start, count: Int, limit: Int = 100, logger: Logger
    ) async throws -> (items: [JSONValue], next: FeedStore.Cursor) {
        var items: [JSONValue] = []
        var cursor = cursor
        try await eventually(within: .seconds(60), "\(count) feed entries") {
            let page = try await feed.page(after: cursor, limit: limit, logger: logger)
            items += page.items
            cursor = page.next
            return items.count >= count
        }
        #expect(items.count == count)
        return (items, cursor)
    }

    static func field(_ item: JSONValue, _ name: String) -> String? {
        guard case .object(let fields) = item, case .string(let value)? = fields[name] else { return nil }
        return value
    }

    @Test func publishCorrectAndKillEachWriteOneEntryThatIsNinjs31() async throws {
        try await Newsroom.with { newsroom in
            let feed = FeedStore(database: newsroom.database)
            let story = try await newsroom.story(through: [.submit, .approve, .publish, .correct])
            // Nothing before publication: drafts, submissions and approvals are not news.
            let entries = try await Self.drain(feed, count: 2, logger: newsroom.logger).items
            #expect(entries.count == 2)
            let uri = "urn:wiredesk:story:\(story.id.uuidString.lowercased())"
            #expect(entries.map { Self.field($0, "uri") } == [uri, uri])
            #expect(entries.map { Self.field($0, "version") } == ["4", "5"])
            #expect(entries.map { Self.field($0, "pubStatus") } == ["usable", "usable"])
            #expect(Self.field(entries[0], "edNote") == nil)
            #expect(Self.field(entries[1], "edNote") == "Correction: Corrects the number of arrests")
            for entry in entries {
                #expect(Self.field(entry, "versionCreated").flatMap(JSONCoding.parseDate) != nil)
                guard case .object(let fields) = entry else { continue }
                #expect(fields["headlines"] != nil && fields["bodies"] != nil)
            }
            let (ok, report) = try await NinjsValidator.validate(entries, as: .v3)
            #expect(ok, "\(report)")
        }
    }

    @Test func aKillTurnsEveryEarlierEntryIntoATombstone() async throws {
        try await Newsroom.with { newsroom in
            let feed = FeedStore(database: newsroom.database)
            let kept = try await newsroom.story(through: [.submit, .approve, .publish])
            let killed = try await newsroom.story(through: [.submit, .approve, .publish, .correct])
            let before = try await Self.drain(feed, count: 3, logger: newsroom.logger)
            _ = try await newsroom.stories.transition(
                killed.id, .kill, reason: "Legal: withdraw this story", ifVersion: killed.version, by: newsroom.editor,
                logger: newsroom.logger)

            let all = try await Self.drain(feed, count: 4, logger: newsroom.logger).items
            let killedURI = "urn:wiredesk:story:\(killed.id.uuidString.lowercased())"
            for entry in all where Self.field(entry, "uri") == killedURI {
                guard case .object(let fields) = entry else { continue }
                #expect(Self.field(entry, "pubStatus") == "canceled")
                #expect(Self.field(entry, "edNote")?.hasPrefix("Kill: Legal: withdraw this story") == true)
                #expect(fields["headlines"] == nil && fields["bodies"] == nil && fields["descriptions"] == nil)
                #expect(fields["associations"] == nil && fields["by"] == nil)
            }
            #expect(all.filter { Self.field($0, "uri") == killedURI }.map { Self.field($0, "version") } == ["4", "5", "6"])
            // The other story's copy is untouched.
            let keptURI = "urn:wiredesk:story:\(kept.id.uuidString.lowercased())"
            #expect(all.first { Self.field($0, "uri") == keptURI }.map { Self.field($0, "pubStatus") } == "usable")
            // A consumer that had read up to before the kill gets the kill next.
            let after = try await Self.drain(feed, from: before.next, count: 1, logger: newsroom.logger).items
            #expect(after.map { Self.field($0, "version") } == ["6"])
            let (ok, report) = try await NinjsValidator.validate(all, as: .v3)
            #expect(ok, "\(report)")
        }
    }

    /// The case an identity column alone gets wrong: a transaction that took its place first
    /// commits after one that took a later place. The later one is held back until the earlier
    /// ends, so a consumer never reads past a place that is still to be filled.
    @Test func anEntryCommittedLateByAnEarlierTransactionIsNotSkipped() async throws {
        try await Newsroom.with { newsroom in
            let feed = FeedStore(database: newsroom.database)
            let first = try await newsroom.story(through: [.submit, .approve])
            let second = try await newsroom.story(through: [.submit, .approve])
            let published = Mutex(false)
            try await newsroom.client.withConnection { early in
                // The early transaction publishes first and stays open.
                try await early.query("BEGIN", logger: newsroom.logger)
                try await early.query(
                    """
                    WITH story AS (UPDATE stories SET state = 'published', version = version + 1 WHERE id = \(first.id)
                                   RETURNING id, version)
                    INSERT INTO feed_entries (story_id, version, kind, item)
                    SELECT id, version, 'publish', '{"uri": "urn:early"}'::jsonb FROM story
                    """, logger: newsroom.logger)
                // A later transaction publishes and commits while it is open.
                _ = try await newsroom.stories.transition(
                    second.id, .publish, ifVersion: second.version, by: newsroom.publisher, logger: newsroom.logger)
                published.withLock { $0 = true }
                let held = try await feed.page(logger: newsroom.logger)
                #expect(held.items.count == 0, "an entry was released while an older transaction was open")
                try await early.query("COMMIT", logger: newsroom.logger)

                let released = try await Self.drain(feed, from: held.next, count: 2, logger: newsroom.logger).items
                #expect(released.map { Self.field($0, "uri") } == [
                    "urn:early", "urn:wiredesk:story:\(second.id.uuidString.lowercased())",
                ])
            }
            #expect(published.withLock { $0 })
        }
    }

    @Test func aConsumerFollowingTheFeedWhileSixteenWritersWorkSeesEveryEntryOnceInOrder() async throws {
        try await Newsroom.with { newsroom in
            let feed = FeedStore(database: newsroom.database)
            let logger = newsroom.logger
            // Approved stories ready for the writers.
            var ready: [Story] = []
            for _ in 0..<32 { ready.append(try await newsroom.story(through: [.submit, .approve])) }
            let stories = ready
            let total = 32 * 2 + 16
            let consumer = Task {
                var seen: [String] = []
                var cursor = FeedStore.Cursor.start
                let started = ContinuousClock.now
                while seen.count < total, ContinuousClock.now - started < .seconds(120) {
                    let page = try await feed.page(after: cursor, limit: 7, logger: logger)
                    seen += page.items.map { "\(Self.field($0, "uri") ?? "?")#\(Self.field($0, "version") ?? "?")" }
                    cursor = page.next
                    if page.items.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                }
                // Anything more would be a repeat.
                seen += try await feed.page(after: cursor, logger: logger).items.map { _ in "extra" }
                return seen
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        for story in [stories[writer * 2], stories[writer * 2 + 1]] {
                            var current = try await newsroom.stories.transition(
                                story.id, .publish, ifVersion: story.version, by: newsroom.publisher, logger: logger)
                            current = try await newsroom.stories.transition(
                                story.id, .correct, reason: "Corrects a name",
                                patch: .object(["standfirst": .string("Corrected by \(writer)")]),
                                ifVersion: current.version, by: newsroom.editor, logger: logger)
                            if writer % 2 == 0 {
                                _ = try await newsroom.stories.transition(
                                    story.id, .kill, reason: "Withdrawn", ifVersion: current.version,
                                    by: newsroom.editor, logger: logger)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seen = try await consumer.value

            // What the table holds, in the feed's order.
            var expected: [String] = []
            for try await (id, version) in try await newsroom.client.query(
                "SELECT story_id, version FROM feed_entries ORDER BY txid, id", logger: logger
            ).decode((UUID, Int).self) {
                expected.append("urn:wiredesk:story:\(id.uuidString.lowercased())#\(version)")
            }
            #expect(expected.count == total)
            #expect(Set(seen).count == seen.count, "an entry was seen twice")
            #expect(seen == expected)
        }
    }

    @Test func cursorsAndLimitsThatAreNotOursAreRefused() async throws {
        try await Newsroom.with { newsroom in
            let feed = FeedStore(database: newsroom.database)
            for token in ["", "1", "a-1", "1-", "-1", "1-2-3", "99999999999999999999-1"] {
                #expect(throws: WiredeskError.self, "\(token)") { try FeedStore.Cursor(token: token) }
            }
            for limit in [0, 501] {
                await #expect(throws: WiredeskError.self) {
                    try await feed.page(limit: limit, logger: newsroom.logger)
                }
            }
            #expect(throws: WiredeskError.self) { try FeedStore.authorize(newsroom.auditor) }
            #expect(throws: WiredeskError.self) { try FeedStore.authorize(newsroom.feed) }
            try FeedStore.authorize(newsroom.publisher)
        }
    }

    @Test func theValidatorChangesWithTheEntriesAndWithAKill() async throws {
        try await Newsroom.with { newsroom in
            let feed = FeedStore(database: newsroom.database)
            let logger = newsroom.logger
            let empty = try await feed.page(logger: logger)
            #expect(try await feed.etag(logger: logger) == empty.etag)
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            _ = try await Self.drain(feed, count: 1, logger: logger)
            let one = try await feed.page(logger: logger)
            #expect(one.etag != empty.etag)
            #expect(try await feed.etag(logger: logger) == one.etag)
            // Unchanged: the same validator, page after page.
            #expect(try await feed.page(logger: logger).etag == one.etag)
            _ = try await newsroom.stories.transition(
                story.id, .kill, reason: "Withdrawn", ifVersion: story.version, by: newsroom.editor, logger: logger)
            // The first page still ends where it did within its limit, but its entry now reads as a
            // tombstone, at once: the kill need not be released for that.
            let killed = try await feed.page(limit: 1, logger: logger)
            #expect(Self.field(killed.items[0], "pubStatus") == "canceled")
            #expect(killed.etag != one.etag)
            #expect(try await feed.page(limit: 1, logger: logger).etag == killed.etag)
            #expect(try await feed.etag(limit: 1, logger: logger) == killed.etag)
        }
    }
}
