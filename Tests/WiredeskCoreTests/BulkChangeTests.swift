import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

/// One transition or assignment applied to many stories: each on its own rules and version, one
/// bulk id over their events, a dry run that changes nothing.
@Suite struct BulkChangeTests {
    func counts(_ newsroom: Newsroom) async throws -> [Int] {
        var counts: [Int] = []
        for table in ["audit_events", "revisions", "feed_entries"] {
            counts.append(try await newsroom.count("SELECT count(*) FROM \(unescaped: table)"))
        }
        return counts
    }

    @Test func eachStorySucceedsOrFailsOnItsOwnRulesAndVersion() async throws {
        try await Newsroom.with { newsroom in
            let drafts = [try await newsroom.story(), try await newsroom.story(), try await newsroom.story()]
            let inReview = try await newsroom.story(through: [.submit])
            let published = try await newsroom.story(through: [.submit, .approve, .publish])
            let moved = try await newsroom.story()
            _ = try await newsroom.stories.edit(
                moved.id, patch: .object(["standfirst": .string("Moved on")]), ifVersion: 1, by: newsroom.reporter,
                logger: newsroom.logger)
            let missing = UUID()
            let bulk = BulkChange(stories: newsroom.stories)
            let targets =
                drafts.map { BulkChange.Target(id: $0.id, version: 1) }
                + [
                    BulkChange.Target(id: inReview.id), BulkChange.Target(id: published.id),
                    BulkChange.Target(id: moved.id, version: 1), BulkChange.Target(id: missing),
                ]

            // A dry run: what would happen, and nothing changes.
            let before = try await counts(newsroom)
            let dry = try await bulk.apply(
                .transition(.spike), to: .stories(targets), reason: "duplicates of the flash", dryRun: true,
                by: newsroom.editor, logger: newsroom.logger)
            #expect(dry.dryRun)
            #expect(dry.outcomes.map(\.result) == [.wouldApply, .wouldApply, .wouldApply, .wouldApply, .refused, .refused, .refused])
            #expect(try await counts(newsroom) == before)
            for story in drafts + [inReview, published] {
                #expect(try await newsroom.stories.story(story.id, logger: newsroom.logger) == story)
            }

            let report = try await bulk.apply(
                .transition(.spike), to: .stories(targets), reason: "duplicates of the flash", by: newsroom.editor,
                logger: newsroom.logger)
            #expect(!report.dryRun && report.action == "spike")
            #expect(report.outcomes.map(\.id) == targets.map(\.id))
            #expect(report.outcomes.map(\.result) == [.applied, .applied, .applied, .applied, .refused, .refused, .refused])
            #expect(report.outcomes.prefix(4).allSatisfy { $0.state == .spiked })
            #expect(report.outcomes[4].problem == "invalid-transition" && report.outcomes[4].rule == "spike.state")
            #expect(report.outcomes[5].problem == "stale-version" && report.outcomes[5].currentVersion == 2)
            #expect(report.outcomes[6].problem == "not-found")
            for story in drafts + [inReview] {
                #expect(try await newsroom.stories.story(story.id, logger: newsroom.logger).state == .spiked)
            }
            #expect(try await newsroom.stories.story(published.id, logger: newsroom.logger) == published)

            // One bulk id over the four events it wrote, and none other.
            let events = try await AuditQuery(bulk: report.bulkId).page(database: newsroom.database, logger: newsroom.logger)
            #expect(Set(events.events.map(\.storyId)) == Set((drafts + [inReview]).map(\.id)))
            #expect(events.events.allSatisfy { $0.action == "spike" && $0.reason == "duplicates of the flash" && $0.bulkId == report.bulkId })
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE bulk_id IS NOT NULL") == 4)
            // The chain seals events with and without a bulk id, and the id is part of what it
            // seals: moving an event out of its bulk change, or into another, is caught.
            let verified = try await AuditChainTests.sealAll(newsroom)
            #expect(verified.verified == Int64(try await newsroom.count("SELECT count(*) FROM audit_events")))
            #expect(verified.unsealed == 0)
            let event = try #require(events.events.first?.id)
            for forged in ["NULL", "'\(UUID().uuidString)'"] {
                try await AuditChainTests.asAttacker(newsroom, ["UPDATE audit_events SET bulk_id = \(forged) WHERE id = \(event)"])
                #expect(try await AuditChainTests.broken(newsroom)?.eventId == event)
            }
        }
    }

    @Test func storiesFoundByAQueryUpToTheMaximum() async throws {
        try await Newsroom.with { newsroom in
            var flash = try Newsroom.almaty()
            flash.headline = "FLASH: blasts heard in Almaty"
            let flashes = [try await newsroom.story(flash), try await newsroom.story(flash), try await newsroom.story(flash)]
            let other = try await newsroom.story()
            let bulk = BulkChange(stories: newsroom.stories)
            let query = StoryQuery(text: "flash blasts", states: [.draft])
            let before = try await counts(newsroom)
            let tooMany = try await #require(throws: WiredeskError.self) {
                try await bulk.apply(.transition(.spike), to: .query(query), maximum: 2, by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(tooMany.kind == .validation)
            let named = try await #require(throws: WiredeskError.self) {
                try await bulk.apply(
                    .transition(.spike), to: .stories(flashes.map { .init(id: $0.id) }), maximum: 2, by: newsroom.editor,
                    logger: newsroom.logger)
            }
            #expect(named.kind == .validation)
            // A role that may not make the transition at all is refused before anything is read.
            let reporter = try await #require(throws: WiredeskError.self) {
                try await bulk.apply(.transition(.spike), to: .query(query), by: newsroom.reporter, logger: newsroom.logger)
            }
            #expect(reporter.kind == .forbidden && reporter.rule == "spike.role")
            #expect(try await counts(newsroom) == before)

            let report = try await bulk.apply(
                .transition(.spike), to: .query(query), maximum: 3, by: newsroom.editor, logger: newsroom.logger)
            #expect(Set(report.outcomes.map(\.id)) == Set(flashes.map(\.id)))
            #expect(report.outcomes.allSatisfy { $0.result == .applied })
            #expect(try await newsroom.stories.story(other.id, logger: newsroom.logger) == other)
        }
    }

    @Test func assigningManyWorksTheSameWay() async throws {
        try await Newsroom.with { newsroom in
            _ = try await DeskStore(database: newsroom.database).add("world", title: "World", by: newsroom.admin, logger: newsroom.logger)
            let one = try await newsroom.story()
            let two = try await newsroom.stories.assign(
                try await newsroom.story().id, Assignment(desk: .set("world")), ifVersion: 1, by: newsroom.editor,
                logger: newsroom.logger)
            let report = try await BulkChange(stories: newsroom.stories).apply(
                .assign(Assignment(desk: .set("world"), assignee: .set("ed"))),
                to: .stories([.init(id: one.id), .init(id: two.id, version: two.version)]), by: newsroom.editor,
                logger: newsroom.logger)
            #expect(report.action == "assign")
            #expect(report.outcomes.map(\.result) == [.applied, .applied])
            for id in [one.id, two.id] {
                let story = try await newsroom.stories.story(id, logger: newsroom.logger)
                #expect(story.desk == "world" && story.assignee == "ed")
            }
            let again = try await BulkChange(stories: newsroom.stories).apply(
                .assign(Assignment(assignee: .set("ed"))), to: .stories([.init(id: one.id)]), by: newsroom.editor,
                logger: newsroom.logger)
            #expect(again.outcomes.map(\.result) == [.unchanged])
            let unknown = try await BulkChange(stories: newsroom.stories).apply(
                .assign(Assignment(desk: .set("nowhere"))), to: .stories([.init(id: one.id)]), by: newsroom.editor,
                logger: newsroom.logger)
            #expect(unknown.outcomes.first?.result == .refused && unknown.outcomes.first?.problem == "validation")
        }
    }

    @Test func targetsParseAsTheCLIWritesThem() throws {
        let id = UUID()
        #expect(try BulkChange.Target(parsing: id.uuidString) == .init(id: id))
        #expect(try BulkChange.Target(parsing: "\(id.uuidString.lowercased())@12") == .init(id: id, version: 12))
        for bad in ["x", "\(id)@", "\(id)@0", "\(id)@-1", "\(id)@1@2", "@3"] {
            #expect(throws: WiredeskError.self, "\(bad)") { try BulkChange.Target(parsing: bad) }
        }
    }
}
