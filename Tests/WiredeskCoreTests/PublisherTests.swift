import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `publish --approved`: every approved story whose embargo has passed, each once.
@Suite struct PublisherTests {
    @Test func twoRunsAtOncePublishEachStoryOnce() async throws {
        try await Newsroom.with { newsroom in
            var approved: [UUID] = []
            for _ in 0..<24 { approved.append(try await newsroom.story(through: [.submit, .approve]).id) }
            let publisher = Publisher(stories: newsroom.stories)
            let logger = newsroom.logger
            async let first = publisher.publishApproved(by: newsroom.publisher, logger: logger)
            async let second = publisher.publishApproved(by: newsroom.editor, logger: logger)
            let outcomes = try await first + second
            let published = outcomes.filter { $0.result == .published }
            #expect(published.count == approved.count)
            #expect(Set(published.map(\.id)) == Set(approved))
            #expect(outcomes.allSatisfy { $0.result == .published || $0.result == .skipped }, "\(outcomes)")
            for id in approved {
                #expect(try await newsroom.events(of: id).filter { $0.action == "publish" }.count == 1)
            }
            #expect(try await newsroom.count("SELECT count(*) FROM feed_entries") == approved.count)
            // Nothing left: a third run finds nothing to do.
            #expect(try await publisher.publishApproved(by: newsroom.publisher, logger: logger).isEmpty)
        }
    }

    @Test func embargoedStoriesWaitAndADryRunPublishesNothing() async throws {
        try await Newsroom.with { newsroom in
            let publisher = Publisher(stories: newsroom.stories)
            let logger = newsroom.logger
            var embargoed = try Newsroom.almaty()
            embargoed.embargo = Date().addingTimeInterval(3600)
            let waiting = try await newsroom.story(embargoed, through: [.submit, .approve])
            var lifted = try Newsroom.almaty()
            lifted.embargo = Date().addingTimeInterval(-60)
            let ready = try await newsroom.story(lifted, through: [.submit, .approve])
            let draft = try await newsroom.story()

            let dry = try await publisher.publishApproved(dryRun: true, by: newsroom.publisher, logger: logger)
            #expect(dry == [.init(id: ready.id, result: .wouldPublish, version: ready.version + 1, reason: nil)])
            #expect(try await newsroom.count("SELECT count(*) FROM stories WHERE state = 'published'") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'publish'") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM feed_entries") == 0)

            let done = try await publisher.publishApproved(by: newsroom.publisher, logger: logger)
            #expect(done == [.init(id: ready.id, result: .published, version: ready.version + 1, reason: nil)])
            #expect(try await newsroom.stories.story(waiting.id, logger: logger).state == .approved)
            // The feed, its stream and webhooks all read feed_entries: the embargoed story is in none.
            #expect(try await newsroom.count("SELECT count(*) FROM feed_entries WHERE story_id = \(waiting.id)") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM feed_entries") == 1)
            #expect(try await newsroom.stories.story(draft.id, logger: logger).state == .draft)
        }
    }

    @Test func onlyThoseWhoMayPublishRunABatch() async throws {
        try await Newsroom.with { newsroom in
            _ = try await newsroom.story(through: [.submit, .approve])
            let publisher = Publisher(stories: newsroom.stories)
            for principal in [newsroom.reporter, newsroom.auditor, newsroom.feed] {
                let error = await #expect(throws: WiredeskError.self) {
                    try await publisher.publishApproved(by: principal, logger: newsroom.logger)
                }
                #expect(error?.rule == "publish.role")
            }
            for limit in [0, 1001] {
                await #expect(throws: WiredeskError.self) {
                    try await publisher.publishApproved(limit: limit, by: newsroom.publisher, logger: newsroom.logger)
                }
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories WHERE state = 'published'") == 0)
        }
    }
}
