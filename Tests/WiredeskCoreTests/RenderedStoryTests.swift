import Foundation
import NIOCore
import Testing
import WiredeskCore
import WiredeskTestSupport

/// A read sends the JSON PostgreSQL wrote from the row when it was written (`StoryStore.rendered`,
/// migration 0012): it must be the document `Story.encode` writes, field for field, whatever the
/// story has been through and whoever wrote the row.
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

    @Test func theStoredRenderingCannotBeSetByHand() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            try await newsroom.database.rows(
                #"UPDATE stories SET rendered = '{"headline": "forged"}' WHERE id = \#(story.id)"#,
                logger: newsroom.logger)
            let (rendered, encoded, _) = try await Self.both(story.id, in: newsroom)
            #expect(rendered == encoded)
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

    /// A list page as JSON holds the stories its typed twin holds, in order, and ends where it
    /// does: at the limit, or before the bytes pass the cap (the first story always goes in).
    @Test func aRenderedPageIsTheTypedPage() async throws {
        try await Newsroom.with { newsroom in
            for _ in 0..<5 { _ = try await newsroom.story() }
            _ = try await newsroom.story(through: [.submit])
            let oneStory = try await newsroom.stories.rendered(
                try await newsroom.stories.list(limit: 1, logger: newsroom.logger).stories[0].id, logger: newsroom.logger
            ).json.readableBytes
            for (state, limit, maximumBytes) in [
                (nil, 50, 4 << 20), (nil, 2, 4 << 20), (StoryState.inReview, 50, 4 << 20), (nil, 50, oneStory * 5 / 2),
                (nil, 50, 1),
            ] as [(StoryState?, Int, Int)] {
                var cursor: StoryStore.Cursor?
                var pages = 0
                repeat {
                    let rendered = try await newsroom.stories.renderedList(
                        state: state, after: cursor, limit: limit, maximumBytes: maximumBytes, logger: newsroom.logger)
                    let page = try JSONCoding.decode(JSONValue.self, from: Data(buffer: rendered))
                    guard case .object(let fields) = page, case .array(let stories)? = fields["stories"] else {
                        Issue.record("not a page: \(String(buffer: rendered))")
                        return
                    }
                    #expect(!stories.isEmpty)
                    var ids: [JSONValue] = []
                    for story in stories {
                        guard case .object(let story) = story, let id = story["id"] else { continue }
                        ids.append(id)
                    }
                    let typed = try await newsroom.stories.list(
                        state: state, after: cursor, limit: limit, logger: newsroom.logger)
                    #expect(ids.count <= typed.stories.count)
                    #expect(ids == typed.stories.prefix(ids.count).map { .string($0.id.uuidString.lowercased()) })
                    if maximumBytes == 1 { #expect(ids.count == 1) }
                    if maximumBytes == oneStory * 5 / 2 { #expect(ids.count == 2 || cursor == nil && ids.count == 1) }
                    if case .string(let token)? = fields["nextCursor"] {
                        cursor = try StoryStore.Cursor(token: token)
                    } else {
                        cursor = nil
                    }
                    pages += 1
                } while cursor != nil && pages < 20
                #expect(cursor == nil)
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
