import Foundation
import NIOCore
import Testing
import WiredeskCore
import WiredeskTestSupport

/// A read sends the JSON PostgreSQL writes from the row (`StoryStore.rendered`): it must be the
/// document `Story.encode` writes, field for field, whatever the story has been through.
@Suite struct RenderedStoryTests {
    /// The story as PostgreSQL renders it, and as the store decodes and Swift encodes it.
    static func both(_ id: UUID, in newsroom: Newsroom) async throws -> (rendered: JSONValue, encoded: JSONValue, version: Int) {
        let rendered = try await newsroom.stories.rendered(id, logger: newsroom.logger)
        let story = try await newsroom.stories.story(id, logger: newsroom.logger)
        #expect(rendered.version == story.version)
        return (
            try JSONCoding.decode(JSONValue.self, from: Data(buffer: rendered.json)), try JSONValue(encoding: story),
            rendered.version
        )
    }

    @Test func aStoryReadsAsItsEncodingAtEveryStep() async throws {
        try await Newsroom.with { newsroom in
            var content = try Newsroom.almaty()
            // Every optional field set, with text that JSON must escape.
            content.ednote = "Check the \"2,000\" figure\nwith the ministry\\desk"
            content.embargo = Date(timeIntervalSince1970: 1_641_538_800.5)
            content.copyright = "© Reuters 2022 / \u{1F4F0}"
            let draft = try await newsroom.story(content)
            let (rendered, encoded, version) = try await Self.both(draft.id, in: newsroom)
            #expect(rendered == encoded)
            #expect(version == 1)

            content.embargo = nil
            let unembargoed = try await newsroom.stories.edit(
                draft.id, patch: .object(["embargo": .null]), ifVersion: 1, by: newsroom.reporter, logger: newsroom.logger)
            let published = try await newsroom.story(
                content, through: [.submit, .approve, .publish, .correct, .kill])
            for id in [unembargoed.id, published.id] {
                let (rendered, encoded, _) = try await Self.both(id, in: newsroom)
                #expect(rendered == encoded)
            }
            let (killed, _, _) = try await Self.both(published.id, in: newsroom)
            guard case .object(let fields) = killed else { Issue.record("not an object"); return }
            #expect(fields["publishedAt"] != nil)
            #expect(fields["killNotice"] == .string("Legal: withdraw this story"))
            guard case .array(let corrections)? = fields["corrections"] else { Issue.record("no corrections"); return }
            #expect(corrections.count == 1)
        }
    }

    @Test func timestampsAreRoundedToTheMillisecondAsTheEncoderRoundsThem() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            // .9996 s rounds up into the next second, .0004 s down: both as formatDate does.
            for micros in ["2026-01-07 09:30:00.999600+00", "2026-01-07 09:30:00.000400+00"] {
                try await newsroom.database.rows(
                    "UPDATE stories SET created_at = \(micros)::timestamptz WHERE id = \(story.id)",
                    logger: newsroom.logger)
                let (rendered, encoded, _) = try await Self.both(story.id, in: newsroom)
                #expect(rendered == encoded)
            }
        }
    }

    @Test func aMissingStoryIsNotFound() async throws {
        try await Newsroom.with { newsroom in
            await #expect(throws: WiredeskError.self) {
                _ = try await newsroom.stories.rendered(UUID(), logger: newsroom.logger)
            }
        }
    }
}
