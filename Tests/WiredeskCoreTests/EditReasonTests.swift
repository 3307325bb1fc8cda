import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// An edit may say why, as a transition does, under the same rules for the reason.
@Suite struct EditReasonTests {
    @Test func anEditsReasonIsOnItsAuditEvent() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let patch: JSONValue = .object(["standfirst": .string("Oil output at Tengiz cut as Russian troops arrive")])
            let edited = try await newsroom.stories.edit(
                story.id, patch: patch, reason: "Adds the Tengiz output figure", ifVersion: story.version,
                by: newsroom.reporter, logger: newsroom.logger)
            let event = try #require(try await newsroom.events(of: story.id).last)
            #expect(event.action == "edit")
            #expect(event.version == edited.version)
            #expect(event.reason == "Adds the Tengiz output figure")

            // Blank is no reason.
            let again = try await newsroom.stories.edit(
                story.id, patch: .object(["urgency": .number(2)]), reason: " \n ", ifVersion: edited.version,
                by: newsroom.reporter, logger: newsroom.logger)
            #expect(try await newsroom.events(of: story.id).last?.version == again.version)
            #expect(try await newsroom.events(of: story.id).last?.reason == nil)
        }
    }

    @Test func aReasonTooLongOrWithControlCharactersIsRefusedBeforeAnythingIsWritten() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let patch: JSONValue = .object(["standfirst": .string("Changed")])
            for reason in [String(repeating: "é", count: Limits.reason + 1), "Adds\u{1}the figure", "Adds\u{85}it"] {
                let error = try await #require(throws: WiredeskError.self) {
                    try await newsroom.stories.edit(
                        story.id, patch: patch, reason: reason, ifVersion: story.version, by: newsroom.reporter,
                        logger: newsroom.logger)
                }
                #expect(error.kind == .validation)
                #expect(error.fields.map(\.field) == ["reason"])
            }
            // Refused as input before the story is even looked up.
            let first = try await #require(throws: WiredeskError.self) {
                try await newsroom.stories.edit(
                    UUID(), patch: patch, reason: String(repeating: "x", count: Limits.reason + 1), ifVersion: 1,
                    by: newsroom.reporter, logger: newsroom.logger)
            }
            #expect(first.kind == .validation)
            #expect(try await newsroom.stories.story(story.id, logger: newsroom.logger) == story)
            #expect(try await newsroom.events(of: story.id).count == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM revisions") == 1)

            // The limit itself is allowed, and line breaks are running text.
            let longest = String(repeating: "é", count: Limits.reason - 1) + "\n"
            _ = try await newsroom.stories.edit(
                story.id, patch: patch, reason: longest, ifVersion: story.version, by: newsroom.reporter,
                logger: newsroom.logger)
            #expect(try await newsroom.events(of: story.id).last?.reason == longest)
        }
    }
}
