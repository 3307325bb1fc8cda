import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// What the desk asks of the Core: the transitions to offer, the most urgent first, word diffs.
@Suite struct DeskRulesTests {
    @Test func theTransitionsOfferedAreTheOnesStateRoleAndOwnershipAllow() async throws {
        try await Newsroom.with { newsroom in
            let draft = try await newsroom.story()  // rita's
            #expect(Workflow.available(to: newsroom.reporter, on: draft) == [.submit])
            #expect(Workflow.available(to: newsroom.otherReporter, on: draft) == [])
            #expect(Workflow.available(to: newsroom.editor, on: draft) == [.submit, .spike])
            #expect(Workflow.available(to: newsroom.publisher, on: draft) == [])
            #expect(Workflow.mayEdit(draft, by: newsroom.reporter) && !Workflow.mayEdit(draft, by: newsroom.otherReporter))

            let review = try await newsroom.story(through: [.submit])
            #expect(Workflow.available(to: newsroom.editor, on: review) == [.requestChanges, .approve, .spike])
            #expect(Workflow.available(to: newsroom.reporter, on: review) == [])
            #expect(!Workflow.mayEdit(review, by: newsroom.reporter) && Workflow.mayEdit(review, by: newsroom.editor))

            let approved = try await newsroom.story(through: [.submit, .approve])
            #expect(Workflow.available(to: newsroom.publisher, on: approved) == [.publish])
            let published = try await newsroom.story(through: [.submit, .approve, .publish])
            #expect(Workflow.available(to: newsroom.editor, on: published) == [.correct, .kill])
            #expect(Workflow.mayEdit(published, by: newsroom.editor) && !Workflow.mayEdit(published, by: newsroom.publisher))
            #expect(Workflow.available(to: newsroom.auditor, on: published) == [])
            #expect(Workflow.asksForReason(.requestChanges) && Workflow.asksForReason(.kill) && !Workflow.asksForReason(.approve))
        }
    }

    @Test func theUrgentOrderPutsUrgencyOneFirstNoneLastAndPagesThroughIt() async throws {
        try await Newsroom.with { newsroom in
            var made: [(UUID, Int?)] = []
            for urgency in [3, 1, nil, 1, 9, nil, 3] {
                let story = try await newsroom.story(StorySearchTests.content("Story of urgency \(urgency ?? 0)", urgency: urgency))
                made.append((story.id, urgency))
            }
            // Most urgent first; within an urgency, newest first; none at all last.
            let expected = made.enumerated().sorted { a, b in
                let (ua, ub) = (a.element.1 ?? 10, b.element.1 ?? 10)
                return ua != ub ? ua < ub : a.offset > b.offset
            }.map(\.element.0)
            var query = StoryQuery(order: .urgent)
            #expect(try await StoryPages.ids(query, limit: 2, database: newsroom.database, logger: newsroom.logger) == expected)
            #expect(try await StoryPages.ids(query, limit: 500, database: newsroom.database, logger: newsroom.logger) == expected)
            // With words too.
            query.text = "urgency"
            #expect(try await StoryPages.ids(query, limit: 3, database: newsroom.database, logger: newsroom.logger) == expected)
            // Its cursor is its own.
            let token = StoryQuery.Cursor(order: .urgent, rank: 3, micros: 1_641_538_800_000_000, id: made[0].0).token
            #expect(token.hasPrefix("g3."))
            #expect(try StoryQuery.Cursor(token: token, order: .urgent).rank == 3)
            #expect(throws: WiredeskError.self) { try StoryQuery.Cursor(token: token, order: .newest) }
            for bad in ["g11.1641538800000000-\(made[0].0)", "g.1-\(made[0].0)", "g3x1-\(made[0].0)"] {
                #expect(throws: WiredeskError.self) { try StoryQuery.Cursor(token: bad, order: .urgent) }
            }
        }
    }

    @Test func wordDiffsMarkOnlyTheWordsThatChanged() {
        let (old, new) = WordDiff.compare("Police detained 30 protesters in Almaty", "Police detained 300 people in Almaty")
        #expect(old.map(\.text).joined() == "Police detained 30 protesters in Almaty")
        #expect(new.map(\.text).joined() == "Police detained 300 people in Almaty")
        #expect(old.filter(\.changed).map(\.text) == ["30 protesters "])
        #expect(new.filter(\.changed).map(\.text) == ["300 people "])
        let (same, _) = WordDiff.compare("No change here", "No change here")
        #expect(same == [WordDiff.Run(text: "No change here", changed: false)])
        let long = String(repeating: "word ", count: WordDiff.maximumWords + 1)
        let (whole, _) = WordDiff.compare(long, "short")
        #expect(whole == [WordDiff.Run(text: long, changed: true)])
    }
}
