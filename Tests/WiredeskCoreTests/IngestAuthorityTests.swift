import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// Ingest writes through the same path as every other change: its wire updates need the authority
/// to edit, follow the workflow's edit rules, and never let an older agency version win.
@Suite struct IngestAuthorityTests {
    static func item(_ version: String, _ headline: String, uri: String = "urn:newsml:dpa.com:20261127:7") -> Data {
        Data(
            #"{"uri": "\#(uri)", "version": "\#(version)", "language": "de", "headlines": [{"role": "main", "value": "\#(headline)"}], "bodies": [{"role": "main", "contenttype": "text/plain", "value": "Erster Absatz."}]}"#
                .utf8)
    }

    /// What the store holds, to prove that a refusal wrote nothing anywhere.
    static func snapshot(_ newsroom: Newsroom) async throws -> [Int] {
        var counts: [Int] = []
        for table in ["stories", "revisions", "audit_events", "ingest_items"] {
            counts.append(try await newsroom.count("SELECT count(*) FROM \(unescaped: table)"))
        }
        counts.append(try await newsroom.count("SELECT coalesce(sum(version), 0)::int FROM stories"))
        return counts
    }

    @Test func aReporterCannotOverwriteAStoryThroughItsAgencyURI() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let first = try await ingest.ingest(
                Self.item("1", "Streik im Hafen"), by: newsroom.editor, logger: newsroom.logger)
            let before = try await Self.snapshot(newsroom)
            let story = try await newsroom.stories.story(first.storyId, logger: newsroom.logger)

            var rita = newsroom.reporter
            rita.source = .ingest
            let error = try await #require(throws: WiredeskError.self) {
                try await ingest.ingest(Self.item("2", "Alles abgesagt"), by: rita, logger: newsroom.logger)
            }
            #expect(error.kind == .forbidden)
            #expect(error.rule == "wire-update.role")
            #expect(try await Self.snapshot(newsroom) == before)
            #expect(try await newsroom.stories.story(first.storyId, logger: newsroom.logger) == story)

            // Copy of her own, with a uri nobody has used, still comes in.
            let own = try await ingest.ingest(
                Self.item("1", "Neue Meldung", uri: "urn:newsml:dpa.com:20261127:8"), by: rita, logger: newsroom.logger)
            #expect(own.status == .created)
        }
    }

    @Test func aFeedScriptTakesCopyInAndUpdatesItButEditsNothingElse() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let first = try await ingest.ingest(Self.item("1", "Streik im Hafen"), by: newsroom.feed, logger: newsroom.logger)
            let second = try await ingest.ingest(
                Self.item("2", "Streik im Hamburger Hafen"), by: newsroom.feed, logger: newsroom.logger)
            #expect(first.status == .created)
            #expect(second.status == .updated && second.applied)
            let story = try await newsroom.stories.story(first.storyId, logger: newsroom.logger)
            #expect(story.content.headline == "Streik im Hamburger Hafen")
            #expect(try await newsroom.events(of: story.id).map(\.actorRole) == [.ingest, .ingest])

            // The role is for feeds: no stories of its own, no edits, no transitions.
            let create = try await #require(throws: WiredeskError.self) {
                try await newsroom.stories.create(try Newsroom.almaty(), by: newsroom.feed, logger: newsroom.logger)
            }
            #expect(create.rule == "create.role")
            let edit = try await #require(throws: WiredeskError.self) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["headline": .string("x")]), ifVersion: story.version, by: newsroom.feed,
                    logger: newsroom.logger)
            }
            #expect(edit.rule == "edit.role")
        }
    }

    @Test func aWireUpdateFollowsTheEditRulesOfTheStorysState() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let first = try await ingest.ingest(Self.item("1", "Streik im Hafen"), by: newsroom.feed, logger: newsroom.logger)
            // Spiked: the desk has put it aside. The agency's update is recorded, not applied.
            let story = try await newsroom.stories.transition(
                first.storyId, .spike, ifVersion: 1, by: newsroom.editor, logger: newsroom.logger)
            let update = try await ingest.ingest(
                Self.item("2", "Streik beendet"), by: newsroom.feed, logger: newsroom.logger)
            #expect(update.status == .updated && !update.applied)
            let after = try await newsroom.stories.story(story.id, logger: newsroom.logger)
            #expect(after.state == .spiked)
            #expect(after.content == story.content)
            #expect(after.version == story.version + 1)
            #expect(try await newsroom.events(of: story.id).last?.action == "wire-update")
        }
    }

    @Test func anOlderAgencyVersionNeverReplacesANewerOne() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let v1 = Self.item("1", "Streik im Hafen")
            let v2 = Self.item("2", "Streik im Hamburger Hafen")
            let first = try await ingest.ingest(v2, by: newsroom.feed, logger: newsroom.logger)
            let before = try await Self.snapshot(newsroom)
            // Feeds deliver out of order: version 1 arrives after version 2.
            let late = try await ingest.ingest(v1, by: newsroom.feed, logger: newsroom.logger)
            #expect(late.status == .superseded)
            #expect(late.storyId == first.storyId)
            #expect(!late.applied)
            #expect(late.warnings.contains { $0.contains("older than version 2") })
            #expect(try await Self.snapshot(newsroom) == before)
            let story = try await newsroom.stories.story(first.storyId, logger: newsroom.logger)
            #expect(story.content.headline == "Streik im Hamburger Hafen")
        }
    }

    @Test func theSameAgencyVersionInOtherBytesIsADuplicate() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let first = try await ingest.ingest(
                Self.item("3", "Streik im Hafen"), by: newsroom.feed, logger: newsroom.logger)
            let before = try await Self.snapshot(newsroom)
            // Re-sent with a changed headline but the same version: the agency's version is the item.
            let resent = try await ingest.ingest(
                Self.item("3", "Streik im Hafen (neu gesendet)"), by: newsroom.feed, logger: newsroom.logger)
            #expect(resent.status == .duplicate)
            #expect(resent.storyId == first.storyId)
            #expect(resent.itemId == first.itemId)
            #expect(try await Self.snapshot(newsroom) == before)
        }
    }

    @Test func concurrentIngestsOfTheSameBytesInDifferentFormatsMakeOneStory() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            for round in 0..<4 {
                let payload = Self.item("1", "Meldung \(round)", uri: "urn:newsml:dpa.com:race:\(round)")
                let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                    for i in 0..<6 {
                        let format: IngestFormat = i % 2 == 0 ? .ninjs : .wireText
                        group.addTask {
                            try await ingest.ingest(payload, format: format, by: newsroom.feed, logger: newsroom.logger)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(outcomes.filter { $0.status == .created }.count == 1)
                #expect(Set(outcomes.map(\.storyId)).count == 1)
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 4)
        }
    }

    @Test func versionsCompareAsCountersWhenTheyAreCounters() {
        #expect(IngestService.isOlder("2", than: "10"))
        #expect(!IngestService.isOlder("10", than: "2"))
        #expect(!IngestService.isOlder("2", than: "2"))
        #expect(!IngestService.isOlder("b", than: "a"))
        #expect(!IngestService.isOlder(nil, than: "3"))
        #expect(!IngestService.isOlder("1", than: nil))
    }
}
