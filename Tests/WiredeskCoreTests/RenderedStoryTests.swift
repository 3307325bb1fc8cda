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

    /// A page of whole stories holds each story as a read sends it, in the order of the summaries,
    /// and ends where it should: at the limit, or before the bytes pass the cap (the first story
    /// always goes in).
    @Test func aFullPageHoldsTheRenderedStories() async throws {
        try await Newsroom.with { newsroom in
            for _ in 0..<5 { _ = try await newsroom.story() }
            _ = try await newsroom.story(through: [.submit])
            let any = try await StoryPages.ids(database: newsroom.database, logger: newsroom.logger)[0]
            let oneStory = try await newsroom.stories.rendered(any, logger: newsroom.logger).json.readableBytes
            for (states, limit, maximumBytes) in [
                ([], 50, 4 << 20), ([], 2, 4 << 20), ([StoryState.inReview], 50, 4 << 20), ([], 50, oneStory * 5 / 2),
                ([], 50, 1),
            ] as [([StoryState], Int, Int)] {
                let query = StoryQuery(states: states)
                let pages = try await StoryPages.pages(
                    query, limit: limit, full: true, maximumBytes: maximumBytes, database: newsroom.database,
                    logger: newsroom.logger)
                let summaries = try await StoryPages.ids(query, database: newsroom.database, logger: newsroom.logger)
                #expect(pages.joined().map { $0["id"] } == summaries.map { .string($0.uuidString.lowercased()) })
                #expect(summaries.count == (states.isEmpty ? 6 : 1))
                for page in pages {
                    #expect(!page.isEmpty && page.count <= limit)
                    if maximumBytes == 1 { #expect(page.count == 1) }
                    if maximumBytes == oneStory * 5 / 2 { #expect(page.count <= 2) }
                    for story in page {
                        guard case .string(let id)? = story["id"], let uuid = UUID(uuidString: id) else {
                            Issue.record("no id")
                            continue
                        }
                        let rendered = try await newsroom.stories.rendered(uuid, logger: newsroom.logger).json
                        #expect(.object(story) == (try JSONCoding.decode(JSONValue.self, from: Data(buffer: rendered))))
                    }
                }
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
