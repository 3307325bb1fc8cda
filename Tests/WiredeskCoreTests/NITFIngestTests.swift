import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// IPTC NITF 3.x: the Almaty story as an agency's NITF document.
@Suite struct NITFIngestTests {
    static let principal = Principal(name: "ed", role: .editor, source: .ingest)
    static let name = "reuters-almaty-2022-01-07.nitf.xml"

    @Test func theAlmatyNITFBecomesADraftWithItsHeadlineBylineDatelineCaptionAndCredit() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let payload = try TestDatabase.fixture("nitf/\(Self.name)")
            let outcome = try await ingest.ingest(payload, fileName: Self.name, by: Self.principal, logger: newsroom.logger)
            #expect(outcome.status == .created)
            #expect(outcome.format == "nitf")
            #expect(outcome.warnings.contains { $0.hasPrefix("left out 1 picture link") }, "\(outcome.warnings)")

            let story = try await newsroom.stories.story(outcome.storyId, logger: newsroom.logger)
            let c = story.content
            #expect(c.headline == "Russian paratroopers land in Kazakhstan as unrest rages")
            #expect(c.standfirst == "Police say dozens of rioters killed overnight in Almaty; more than 2,000 arrested")
            #expect(c.bylines == [Byline(name: "Reuters Staff", title: "Staff Reporters")])
            #expect(c.dateline == Dateline(place: "ALMATY", date: "2022-01-07"))
            #expect(c.source == "Reuters")
            #expect(c.copyright == "Copyright 2022 Thomson Reuters")
            #expect(c.language == "en")
            #expect(c.urgency == 3)
            #expect(c.ednote == "Moves with a picture from Aktobe.")
            #expect(c.keywords == ["Kazakhstan", "Almaty", "protests"])
            #expect(c.subjects.first == Subject(code: "subj:11000000", name: "politics"))
            #expect(c.body.filter { $0.kind == .crosshead }.map(\.text) == ["“ATTACK ON OUR CITIZENS”", "“LOOTERS CAME IN”"])
            #expect(c.body.count == 9)
            #expect(c.body.first?.text.hasPrefix("Fresh violence erupted in Kazakhstan's main city of Almaty") == true)
            #expect(
                c.body.last?.text
                    == #""Thank God, the military has arrived, finally," Ali, a manager at Holiday Inn hotel near Almaty's main square, told Reuters by phone. "Looters came in last night, smashing car windows near us.""#
            )

            let picture = try #require(c.pictures.first)
            #expect(c.pictures.count == 1)
            #expect(
                picture.caption
                    == "Demonstrators clash with law enforcement officers during a protest triggered by fuel price increase in Aktobe, Kazakhstan January 5, 2022."
            )
            #expect(picture.creditline == "Interior Ministry of Kazakhstan/ via REUTERS")
            #expect(picture.altText == "Demonstrators face riot police in a square in Aktobe")
            #expect(
                picture.renditions == [
                    Rendition(
                        name: "highRes", href: "https://pictures.example.com/2022/01/05/aktobe-protest.jpg",
                        mediaType: "image/jpeg", width: 1200, height: 800)
                ])

            // Kept byte for byte, and the DOCTYPE's DTD was never needed.
            let (kept, media) = try await ingest.payload(outcome.itemId, logger: newsroom.logger)
            #expect(kept == payload)
            #expect(media == "application/nitf+xml")
            let items = try await ingest.items(of: story.id, logger: newsroom.logger)
            #expect(items.map(\.agencyUri) == ["tag:reuters.example,2022-01-07:KAZAKHSTAN-PROTESTS"])
            #expect(items.map(\.agencyVersion) == ["1"])

            for version in Ninjs.ExportVersion.allCases {
                let (ok, report) = try await NinjsValidator.validate([Ninjs.export(story, as: version)], as: version)
                #expect(ok, "\(version): \(report)")
            }

            // Delivered again: the same bytes make nothing new.
            let again = try await ingest.ingest(payload, by: Self.principal, logger: newsroom.logger)
            #expect(again.status == .duplicate)
            #expect(again.storyId == story.id)
        }
    }

    /// NITF approves like any story once an editor adds nothing: caption and credit are there.
    @Test func theNITFPictureMeetsApprovalsCreditRule() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let outcome = try await ingest.ingest(
                try TestDatabase.fixture("nitf/\(Self.name)"), by: Self.principal, logger: newsroom.logger)
            var story = try await newsroom.stories.transition(
                outcome.storyId, .submit, ifVersion: 1, by: newsroom.editor, logger: newsroom.logger)
            story = try await newsroom.stories.transition(
                story.id, .approve, ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            #expect(story.state == .approved)
        }
    }

    @Test func aDocumentThatIsNotNITFIsRefusedAsNITF() throws {
        let error = try #require(throws: WiredeskError.self) {
            try IngestService.parse(Data(#"<newsItem guid="x"/>"#.utf8), format: .nitf)
        }
        #expect(error.message.contains("root element is <nitf>, not <newsItem>"))
    }
}
