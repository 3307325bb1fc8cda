import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `wiredesk publish --approved`, as cron runs it: two at once publish each story once.
@Suite struct PublishCLITests {
    typealias CLI = CLITests.CLI

    @Test func twoProcessesAtOncePublishEachApprovedStoryOnce() async throws {
        try await Newsroom.with { newsroom in
            var approved: Set<String> = []
            for _ in 0..<12 {
                approved.insert(try await newsroom.story(through: [.submit, .approve]).id.uuidString.lowercased())
            }
            let draft = try await newsroom.story()
            let wiredesk = CLI(url: newsroom.url)
            let dry = try await wiredesk("publish", "--approved", "--dry-run", "--as", "pat", "--json")
            #expect(dry.status == 0, "\(dry.err)")
            let planned = try #require(try JSONSerialization.jsonObject(with: Data(dry.out.utf8)) as? [[String: Any]])
            #expect(Set(planned.compactMap { $0["id"] as? String }) == approved)
            #expect(planned.allSatisfy { $0["result"] as? String == "would-publish" })

            async let first = Task.detached { try await wiredesk("publish", "--approved", "--as", "pat", "--json") }.value
            async let second = Task.detached { try await wiredesk("publish", "--approved", "--as", "ed", "--json") }.value
            let runs = try await [first, second]
            var published: [String] = []
            for run in runs {
                #expect(run.status == 0, "\(run.err)")
                let outcomes = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [[String: Any]])
                published += outcomes.filter { $0["result"] as? String == "published" }.compactMap { $0["id"] as? String }
            }
            #expect(published.count == approved.count)
            #expect(Set(published) == approved)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'publish'") == approved.count)
            #expect(try await newsroom.stories.story(draft.id, logger: newsroom.logger).state == .draft)

            let again = try await wiredesk("publish", "--approved", "--as", "pat")
            #expect(again.status == 0)
            #expect(again.out == "nothing to publish\n")
            let refused = try await wiredesk("publish", "--approved", "--as", "rita")
            #expect(refused.status == 5, "\(refused.err)")
            #expect(try await wiredesk("publish", "--as", "pat").status != 0)
        }
    }
}
