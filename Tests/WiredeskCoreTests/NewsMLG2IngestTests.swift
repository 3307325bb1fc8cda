import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// IPTC NewsML-G2: the Guidelines' examples and newsMessages of several items, ingested against a
/// real database.
@Suite struct NewsMLG2IngestTests {
    static let principal = Principal(name: "ed", role: .editor, source: .ingest)

    static let listings = [
        "LISTING_1_A_NewsML-G2_News_Item.xml", "LISTING_2_NewsML-G2_Text_Document.xml",
        "LISTING_3_Photo_in_NewsML-G2.xml", "LISTING_6_Simple_NewsML-G2_Package.xml",
    ]

    static func fixture(_ name: String) throws -> Data {
        try TestDatabase.fixture("newsml-g2/\(name)")
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try fixture(name), as: UTF8.self)
    }

    /// Every story exported as ninjs 2.2 and 3.1 passes IPTC's schemas.
    static func expectValidExports(_ story: Story, _ name: String) async throws {
        for version in Ninjs.ExportVersion.allCases {
            let (ok, report) = try await NinjsValidator.validate([Ninjs.export(story, as: version)], as: version)
            #expect(ok, "\(name) as \(version): \(report)")
        }
    }

    @Test(arguments: listings)
    func everyIPTCListingImportsAndExportsAsValidNinjs(_ name: String) async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let payload = try Self.fixture(name)
            let outcome = try await ingest.ingest(payload, fileName: name, by: Self.principal, logger: newsroom.logger)
            #expect(outcome.status == .created)
            #expect(outcome.format == "newsml-g2")
            let story = try await newsroom.stories.story(outcome.storyId, logger: newsroom.logger)
            #expect(story.content.headline != nil)
            try await Self.expectValidExports(story, name)
            // The document is kept whole, byte for byte, as the item type it is.
            let (kept, media) = try await ingest.payload(outcome.itemId, logger: newsroom.logger)
            #expect(kept == payload)
            #expect(media == (name.contains("Package") ? NewsMLG2.packageItemMediaType : NewsMLG2.newsItemMediaType))
        }
    }

    @Test func theListingsLandWhereAnEditorExpectsThem() throws {
        let text = try IngestService.parse(try Self.fixture(Self.listings[0]), format: nil)
        #expect(text.format == "newsml-g2")
        #expect(text.agencyURI == "urn:newsml:acmenews.com:20161018:US-FINANCE-FED")
        #expect(text.agencyVersion == "11")
        #expect(text.content.headline == #"Fed to halt QE to avert "bubble""#)
        #expect(text.content.bylines == [Byline(name: "Meredith Jameson")])
        #expect(text.content.dateline == Dateline(place: "Berlin", date: "2016-10-18"))
        #expect(text.content.slug == "US-Finance-Fed")
        #expect(text.content.language == "en-GB")
        #expect(text.content.copyright == "Copyright 2017-18 Example Enews LLP, all rights reserved")
        #expect(text.content.source == "Example Enews LLP")
        #expect(text.content.embargo == JSONCoding.parseDate("2018-10-23T12:00:00Z"))
        #expect(text.content.ednote?.contains("STRICTLY EMBARGOED") == true)
        #expect(
            text.content.subjects == [
                Subject(code: "medtop:04000000", name: "economy, business and finance"),
                Subject(code: "medtop:20000523", name: "labour market"),
            ])
        #expect(text.warnings.contains("no body text"))

        let nitf = try IngestService.parse(try Self.fixture(Self.listings[1]), format: .newsmlG2)
        #expect(nitf.content.body.count == 2)
        #expect(nitf.content.body.first?.text.hasPrefix("(New York, NY - October 21) Et, sent luptat luptat, commy Nim") == true)
        #expect(nitf.content.dateline == Dateline(place: "New York, NY", date: "2016-11-21"))
        #expect(nitf.content.language == "en-US")
        #expect(nitf.content.bylines == [Byline(name: "Meredith Jameson")])
        #expect(nitf.content.subjects.map(\.code) == ["medtop:04000000", "medtop:20000350", "medtop:20000379"])

        let photo = try IngestService.parse(try Self.fixture(Self.listings[2]), format: nil)
        #expect(photo.content.headline == "Variety Of Recessionary Forces Leave Las Vegas Economy Scarred")
        let picture = try #require(photo.content.pictures.first)
        #expect(photo.content.pictures.count == 1)
        #expect(picture.caption?.hasPrefix("A general view of part of downtown, including Las Vegas Boulevard") == true)
        #expect(picture.caption?.hasSuffix("(Photo by Spencer Platt/Getty Images)") == true)
        #expect(picture.creditline == "Getty Images")
        #expect(picture.photographer == "Spencer Platt")
        #expect(picture.uri == "tag:gettyimages.com,2010:GYI0062134533")
        // One relative link and two file: links: none is a link a story may hold.
        #expect(picture.renditions.isEmpty)
        #expect(photo.warnings.contains { $0.hasPrefix("left out 3 picture links") }, "\(photo.warnings)")
        #expect(photo.content.bylines.isEmpty)
        #expect(photo.content.keywords.count == 7)
        #expect(photo.content.subjects.contains(Subject(code: "gyimeid:104530187")))
        #expect(photo.content.subjects.contains(Subject(name: "Las Vegas Boulevard")))
        #expect(photo.content.source == "Getty Images Inc.")

        let package = try IngestService.parse(try Self.fixture(Self.listings[3]), format: nil)
        #expect(package.content.headline == "Obama annonce son équipe")
        #expect(package.content.standfirst?.hasPrefix("Le rachat il y a deux ans") == true)
        #expect(package.content.pictures.count == 1)
        #expect(package.content.pictures.first?.caption?.hasPrefix("Si nous avons aujourd'hui") == true)
        #expect(package.content.pictures.first?.uri == "urn:newsml:iptc.org:20081007:tutorial—item-B")
        #expect(package.content.ednote == "Updates the previous version")
        #expect(package.content.language == "en")
    }

    @Test func aNewsMessagesItemsEachGoInOnceAsTheirOwnBytes() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let message = try Self.fixture("message-two-texts.xml")
            let outcomes = try await ingest.ingestAll(
                message, mediaType: NewsMLG2.newsMessageMediaType, by: Self.principal, logger: newsroom.logger)
            #expect(outcomes.map(\.status) == [.created, .created])
            #expect(Set(outcomes.map(\.storyId)).count == 2)

            let messageText = String(decoding: message, as: UTF8.self)
            for outcome in outcomes {
                let (kept, media) = try await ingest.payload(outcome.itemId, logger: newsroom.logger)
                let text = String(decoding: kept, as: UTF8.self)
                #expect(text.hasPrefix("<newsItem guid="))
                #expect(text.hasSuffix("</newsItem>"))
                #expect(messageText.contains(text))
                #expect(media == NewsMLG2.newsItemMediaType)
            }
            let oil = try await newsroom.stories.story(outcomes[0].storyId, logger: newsroom.logger)
            #expect(oil.content.headline == "Oil output at Tengiz reduced, Chevron says")
            #expect(
                oil.content.body.map(\.text) == [
                    "Oil production at Kazakhstan's top field Tengiz was reduced on Thursday.",
                    "Oil prices rose more than 1% on Thursday.",
                ])
            #expect(oil.content.dateline?.place == "NUR-SULTAN")
            let bitcoin = try await newsroom.stories.story(outcomes[1].storyId, logger: newsroom.logger)
            #expect(outcomes[1].warnings.contains("the agency marks this item withheld (not usable)"))
            #expect(bitcoin.content.ednote == "Agency status: withheld.")

            // The same message again: every item is a duplicate, nothing is written.
            let again = try await ingest.ingestAll(message, by: Self.principal, logger: newsroom.logger)
            #expect(again.map(\.status) == [.duplicate, .duplicate])
            #expect(again.map(\.storyId) == outcomes.map(\.storyId))
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 2)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 2)

            // `ingest` takes one item: a message of two is refused, and nothing written.
            let refused = try await #require(throws: WiredeskError.self) {
                try await ingest.ingest(message, by: Self.principal, logger: newsroom.logger)
            }
            #expect(refused.message.contains("holds 2 items"))
        }
    }

    @Test func aNewerVersionOfOneItemUpdatesItsStoryAndAnOlderNeverReplacesIt() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let original = try Self.text("message-two-texts.xml")
            let first = try await ingest.ingestAll(Data(original.utf8), by: Self.principal, logger: newsroom.logger)
            let oilID = first[0].storyId

            let oilGUID = #"guid="tag:wire.example.com,2022:text:oil" version="#
            func version(_ number: Int, headline: String) -> Data {
                Data(
                    original.replacingOccurrences(of: oilGUID + #""1""#, with: oilGUID + "\"\(number)\"")
                        .replacingOccurrences(of: "Oil output at Tengiz reduced, Chevron says", with: headline).utf8)
            }
            let second = try await ingest.ingestAll(
                version(3, headline: "Oil output at Tengiz cut by half"), by: Self.principal, logger: newsroom.logger)
            #expect(second.map(\.status) == [.updated, .duplicate])
            #expect(second[0].storyId == oilID)
            #expect(second[0].applied)
            var oil = try await newsroom.stories.story(oilID, logger: newsroom.logger)
            #expect(oil.content.headline == "Oil output at Tengiz cut by half")

            // Version 2 arrives late: older than version 3, already in, so nothing changes.
            let third = try await ingest.ingestAll(
                version(2, headline: "Oil output at Tengiz falls"), by: Self.principal, logger: newsroom.logger)
            #expect(third.map(\.status) == [.superseded, .duplicate])
            #expect(third[0].storyId == oilID)
            oil = try await newsroom.stories.story(oilID, logger: newsroom.logger)
            #expect(oil.content.headline == "Oil output at Tengiz cut by half")
            #expect(oil.version == 2)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 2)
        }
    }

    @Test func aPackageInAMessageIsOneStoryWithTheTextAndPicturesItReferences() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let message = try Self.fixture("message-package.xml")
            let outcomes = try await ingest.ingestAll(message, by: Self.principal, logger: newsroom.logger)
            #expect(outcomes.count == 1)
            #expect(outcomes.first?.status == .created)
            let outcome = try #require(outcomes.first)
            let story = try await newsroom.stories.story(outcome.storyId, logger: newsroom.logger)
            let c = story.content
            #expect(c.headline == "Russian paratroopers land in Kazakhstan as unrest rages")
            #expect(c.standfirst == "Police say dozens of rioters were killed overnight in Almaty.")
            #expect(c.slug == "KAZAKHSTAN-PROTESTS-ALMATY")
            #expect(c.dateline == Dateline(place: "ALMATY", date: "2022-01-07"))
            #expect(c.bylines == [Byline(name: "Wire Example staff")])
            #expect(c.source == "Wire Example")
            #expect(c.urgency == 3)
            #expect(c.subjects == [Subject(code: "medtop:11000000", name: "politics")])
            #expect(c.body.filter { $0.kind == .crosshead }.map(\.text) == ["ATTACK ON OUR CITIZENS", "LOOTERS CAME IN"])
            #expect(c.body.filter { $0.kind == .paragraph }.count == 3)
            let picture = try #require(c.pictures.first)
            #expect(c.pictures.count == 1)
            #expect(picture.caption?.hasPrefix("Demonstrators clash with law enforcement officers") == true)
            #expect(picture.creditline == "Interior Ministry of Kazakhstan/ via REUTERS")
            #expect(picture.photographer == "Handout")
            #expect(
                picture.renditions == [
                    Rendition(
                        name: "highRes", href: "https://pictures.example.com/aktobe-high.jpg", mediaType: "image/jpeg",
                        width: 3000, height: 2000),
                    Rendition(
                        name: "thumb", href: "https://pictures.example.com/aktobe-thumb.jpg", mediaType: "image/jpeg",
                        width: 120, height: 80),
                ])
            let (kept, media) = try await ingest.payload(outcome.itemId, logger: newsroom.logger)
            #expect(
                String(decoding: kept, as: UTF8.self).hasPrefix("<packageItem guid=\"tag:wire.example.com,2022:package:almaty\""))
            #expect(media == NewsMLG2.packageItemMediaType)
            try await Self.expectValidExports(story, "message-package.xml")

            // Renditions travel in the ninjs picture association.
            guard case .object(let exported) = Ninjs.export(story, as: .v3),
                case .array(let associations)? = exported["associations"],
                case .array(let renditions)? = associations.first?.field("renditions")
            else {
                Issue.record("no renditions exported")
                return
            }
            #expect(renditions.compactMap { $0.field("name")?.string } == ["highRes", "thumb"])
            #expect(renditions.first?.field("contentType") == .string("image/jpeg"))
            guard case .array(let subjects)? = exported["subjects"] else {
                Issue.record("no subjects exported")
                return
            }
            #expect(subjects.contains(.object(["name": .string("politics"), "uri": .string("medtop:11000000")])))
        }
    }

    @Test func oneBadItemRefusesTheWholeMessageAndNothingIsWritten() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let original = try Self.text("message-two-texts.xml")
            let bad = original.replacingOccurrences(
                of: #"guid="tag:wire.example.com,2022:text:bitcoin" version="1""#,
                with: #"guid="tag:wire.example.com,2022:text:bitcoin" version="1&#10;2""#)
            let error = try await #require(throws: WiredeskError.self) {
                try await ingest.ingestAll(Data(bad.utf8), by: Self.principal, logger: newsroom.logger)
            }
            #expect(error.kind == .validation)
            #expect(error.message.hasPrefix("item 2 of 2 (tag:wire.example.com,2022:text:bitcoin)"), "\(error.message)")
            #expect(error.fields.map(\.field) == ["version"])

            let embargo = original.replacingOccurrences(
                of: "<pubStatus qcode=\"stat:withheld\"/>", with: "<embargoed>next tuesday</embargoed>")
            let refused = try await #require(throws: WiredeskError.self) {
                try await ingest.ingestAll(Data(embargo.utf8), by: Self.principal, logger: newsroom.logger)
            }
            #expect(refused.message.contains("item 2 of the newsMessage"), "\(refused.message)")
            #expect(refused.fields.map(\.field) == ["embargoed"])
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 0)
        }
    }

    /// Hostile XML through ingest: refused by name, as unprocessable, with nothing written and
    /// nothing of any local file in the answer.
    @Test func hostileXMLIsRefusedAndNothingIsWritten() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let cases: [(String, String)] = [
                (
                    #"<?xml version="1.0"?><!DOCTYPE newsItem [<!ENTITY e SYSTEM "file:///etc/passwd">]><newsItem guid="x">&e;</newsItem>"#,
                    "entity declarations are refused (XML external entities / entity expansion)"
                ),
                (
                    #"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><newsItem guid="x">&lol2;</newsItem>"#,
                    "entity declarations are refused"
                ),
                (#"<newsItem guid="x"><headline>caf&eacute;</headline></newsItem>"#, "undefined entity &eacute;"),
                (String(repeating: "<newsItem>", count: 10_000), "nested deeper than 256 levels"),
                ("<nitf>\n<body>\n</nitf>", "line 3: end tag </nitf> does not match <body>"),
                ("<rss version=\"2.0\"><channel/></rss>", "is not a format Wiredesk reads"),
                (
                    "<newsMessage><itemSet>"
                        + String(repeating: #"<newsItem guid="g" version="1"><contentMeta><headline>h</headline></contentMeta></newsItem>"#, count: 501)
                        + "</itemSet></newsMessage>",
                    "the newsMessage holds 501 items; at most 500"
                ),
            ]
            for (payload, expected) in cases {
                let error = try await #require(throws: WiredeskError.self) {
                    try await ingest.ingestAll(Data(payload.utf8), by: Self.principal, logger: newsroom.logger)
                }
                #expect(error.kind == .validation, "\(error)")
                #expect(error.message.contains(expected), "\(error.message)")
                #expect(!error.message.contains("root:x:0:0"))
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 0)
        }
    }
}
