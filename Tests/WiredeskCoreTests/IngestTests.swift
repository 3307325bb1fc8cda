import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

@Suite struct IngestTests {
    static let ingestPrincipal = Principal(name: "ed", role: .editor, source: .ingest)

    static func ninjsFixture(_ name: String) throws -> Data {
        try TestDatabase.fixture("ninjs/examples/\(name)")
    }

    static let ninjsFixtures = [
        "2.2/001_simple_example.json", "2.2/003_associations_example.json", "2.2/004_simple_text_article.json",
        "2.2/005_complex_text_article.json", "2.2/006_photo_only.json", "2.2/007_multimedia.json",
        "3.1/001_simple_example.json", "3.1/003_associations_example.json", "3.1/004_simple_text_article.json",
        "3.1/005_complex_text_article.json", "3.1/006_photo_only.json", "3.1/007_multimedia.json", "3.1/008_event.json",
        "3.1/002_renditions_example.json", "2.2/002_renditions_example.json", "dpa_text.json", "tt_text_image_2.json",
    ]

    @Test func almatyWireCopyBecomesADraftWithItsPayloadKept() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let payload = try TestDatabase.fixture("reuters-almaty-2022-01-07.txt")
            let outcome = try await ingest.ingest(
                payload, fileName: "reuters-almaty-2022-01-07.txt", by: Self.ingestPrincipal, logger: newsroom.logger)
            #expect(outcome.status == .created)
            #expect(outcome.format == "wire-text")
            let story = try await newsroom.stories.story(outcome.storyId, logger: newsroom.logger)
            #expect(story.state == .draft)
            #expect(story.content.dateline == Dateline(place: "ALMATY", date: "2022-01-07"))
            #expect(story.content.teasers.count == 20)

            let events = try await newsroom.events(of: story.id)
            #expect(events.map(\.source) == [.ingest])
            #expect(events.first?.reason == "ingested wire-text from reuters-almaty-2022-01-07.txt")

            let items = try await ingest.items(of: story.id, logger: newsroom.logger)
            #expect(items.map(\.id) == [outcome.itemId])
            #expect(try await ingest.payload(outcome.itemId, logger: newsroom.logger).data == payload)

            // No headline in the copy: editors write it, and submit says so.
            let error = try await #require(throws: WiredeskError.self) {
                try await newsroom.stories.transition(
                    story.id, .submit, ifVersion: 1, by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(error.rule == "submit.headline")
        }
    }

    @Test func theSameItemTwiceMakesNothingNew() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let payload = try TestDatabase.fixture("reuters-almaty-2022-01-07.txt")
            let first = try await ingest.ingest(payload, by: Self.ingestPrincipal, logger: newsroom.logger)
            let again = try await ingest.ingest(payload, by: Self.ingestPrincipal, logger: newsroom.logger)
            #expect(again.status == .duplicate)
            #expect(again.storyId == first.storyId)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE story_id IS NOT NULL") == 1)
        }
    }

    @Test func concurrentImportsOfOneItemMakeOneStory() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let payload = try TestDatabase.fixture("ninjs/examples/dpa_text.json")
            let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await ingest.ingest(payload, by: Self.ingestPrincipal, logger: newsroom.logger) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0.status == .created }.count == 1)
            #expect(Set(outcomes.map(\.storyId)).count == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 1)
        }
    }

    @Test func aNewerAgencyVersionUpdatesAnUntouchedDraftAndNeverAnEditorsText() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            func item(_ version: String, _ headline: String) -> Data {
                Data(
                    #"{"uri": "urn:newsml:dpa.com:20261127:1", "version": "\#(version)", "language": "de", "headlines": [{"role": "main", "value": "\#(headline)"}], "bodies": [{"role": "main", "contenttype": "text/plain", "value": "Erster Absatz.\nZweiter Absatz."}]}"#
                        .utf8)
            }
            let first = try await ingest.ingest(item("1", "Streik im Hafen"), by: Self.ingestPrincipal, logger: newsroom.logger)
            let second = try await ingest.ingest(
                item("2", "Streik im Hamburger Hafen"), by: Self.ingestPrincipal, logger: newsroom.logger)
            #expect(second.status == .updated)
            #expect(second.storyId == first.storyId)
            #expect(second.applied)
            var story = try await newsroom.stories.story(first.storyId, logger: newsroom.logger)
            #expect(story.content.headline == "Streik im Hamburger Hafen")
            #expect(story.version == 2)

            // An editor rewrites the headline; the agency's next version must not undo that.
            story = try await newsroom.stories.edit(
                story.id, patch: .object(["headline": .string("Hafenstreik legt Hamburg lahm")]), ifVersion: 2,
                by: newsroom.editor, logger: newsroom.logger)
            let third = try await ingest.ingest(
                item("3", "Streik im Hamburger Hafen beendet"), by: Self.ingestPrincipal, logger: newsroom.logger)
            #expect(third.status == .updated)
            #expect(!third.applied)
            let after = try await newsroom.stories.story(story.id, logger: newsroom.logger)
            #expect(after.content.headline == "Hafenstreik legt Hamburg lahm")
            #expect(after.version == 4)

            let events = try await newsroom.events(of: story.id)
            #expect(events.map(\.action) == ["create", "wire-update", "edit", "wire-update"])
            let update = try #require(events.last)
            #expect(update.source == .ingest)
            #expect(
                update.diff == [
                    FieldChange(
                        field: "headline", from: .string("Streik im Hamburger Hafen"),
                        to: .string("Streik im Hamburger Hafen beendet"))
                ])
            #expect(update.reason?.contains("not applied") == true)
            #expect(try await ingest.items(of: story.id, logger: newsroom.logger).map(\.applied) == [true, true, false])
        }
    }

    @Test(arguments: ninjsFixtures)
    func everyNinjsFixtureImports(_ name: String) async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let outcome = try await ingest.ingest(try Self.ninjsFixture(name), by: Self.ingestPrincipal, logger: newsroom.logger)
            #expect(outcome.status == .created)
            #expect(outcome.format == (name.hasPrefix("3.1") ? "ninjs-3" : "ninjs-2"))
            let story = try await newsroom.stories.story(outcome.storyId, logger: newsroom.logger)
            for version in Ninjs.ExportVersion.allCases {
                let (ok, report) = try await NinjsValidator.validate([Ninjs.export(story, as: version)], as: version)
                #expect(ok, "\(name) as \(version): \(report)")
            }
        }
    }

    @Test func ninjsFieldsLandWhereAnEditorExpectsThem() throws {
        let complex = try Ninjs.parse(try Self.ninjsFixture("3.1/005_complex_text_article.json"))
        #expect(complex.content.headline == "Captain of wrecked cruise ship on trial in Italy")
        #expect(complex.content.bylines == [Byline(name: "Paulo Santalucia and Frances d'Emilio")])
        #expect(complex.content.dateline?.place == "Grossetto, Italy")
        #expect(complex.content.dateline?.date == "2013-07-09")
        #expect(complex.content.language == "en")
        #expect(complex.content.copyright == "Copyright 2013 The News Agency, www.tna.org - all rights reserved.")
        #expect(complex.content.body.count == 4)
        #expect(complex.content.body.first?.text.hasPrefix("GROSSETO, Italy (AP) -- The trial") == true)
        #expect(complex.agencyURI == "http://ninjs.example.com/newsitems/20130709med123")

        let dpa = try Ninjs.parse(try Self.ninjsFixture("dpa_text.json"))
        #expect(dpa.content.source == "dpa")
        #expect(dpa.content.urgency == 4)
        #expect(dpa.content.language == "de")
        #expect(dpa.agencyVersion == "2")
        #expect(dpa.content.body.first?.text.hasPrefix("Für Lucien Favre war es «der größte Skandal") == true)

        let tt = try Ninjs.parse(try Self.ninjsFixture("tt_text_image_2.json"))
        #expect(tt.content.slug == "militärövning")
        #expect(tt.content.standfirst?.hasPrefix("Pandemin satte stopp") == true)
        #expect(tt.content.language == "sv")
        #expect(!tt.content.pictures.isEmpty)

        let photo = try Ninjs.parse(try Self.ninjsFixture("2.2/006_photo_only.json"))
        #expect(photo.warnings.contains(#"a ninjs "picture" item, imported as a story"#))

        let v1 = try Ninjs.parse(
            Data(
                #"{"uri": "urn:x:1", "headline": "Old style", "body_text": "One.\nTwo.", "byline": "A. Writer", "embargoed": "2030-01-01T00:00:00Z", "subject": [{"name": "Politics"}], "associations": {"pic": {"uri": "http://x/p.jpg", "type": "picture", "description_text": "A caption", "byline": "Photographer"}}}"#
                    .utf8))
        #expect(Ninjs.version(of: ["headline": .string("x")]) == .v1)
        #expect(v1.content.headline == "Old style")
        #expect(v1.content.body.map(\.text) == ["One.", "Two."])
        #expect(v1.content.embargo != nil)
        #expect(v1.content.keywords == ["Politics"])
        #expect(v1.content.pictures.first?.caption == "A caption")
        #expect(v1.content.pictures.first?.photographer == "Photographer")
    }

    @Test func malformedItemsFailWithAReason() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            for (payload, message) in [
                (Data("{\"headline\": ".utf8), "not JSON"),
                (Data("{\"headline\": \"no uri\"}".utf8), "uri"),
                (Data([0xFF, 0xFE, 0x00, 0x41]), "not UTF-8"),
                (Data(), "empty"),
            ] {
                let error = try await #require(throws: WiredeskError.self) {
                    try await ingest.ingest(payload, by: Self.ingestPrincipal, logger: newsroom.logger)
                }
                #expect(error.message.contains(message), "\(error)")
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 0)
        }
    }

    /// PostgreSQL text and jsonb cannot hold U+0000: such input must be refused by name, not
    /// reach the database (where it was a 500, found by schemathesis).
    @Test func controlCharactersInProvenanceAreRefusedOrEscaped() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            for (payload, fileName, field) in [
                (#"{"uri": "urn:a\u0000b", "headline": "x"}"#, nil, "uri"),
                (#"{"uri": "urn:a", "version": "1\u0000", "headline": "x"}"#, nil, "version"),
                ("ALMATY: Fresh violence", "a\u{0}b.txt", "fileName"),
                ("ALMATY: Fresh violence", "two\nlines.txt", "fileName"),
                ("ALMATY: Fresh violence", String(repeating: "n", count: 256), "fileName"),
            ] {
                let error = try await #require(throws: WiredeskError.self) {
                    try await ingest.ingest(
                        Data(payload.utf8), fileName: fileName, by: Self.ingestPrincipal, logger: newsroom.logger)
                }
                #expect(error.fields.map(\.field) == [field], "\(error)")
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 0)

            // The agency's odd values are cleaned, and quoted in a warning with line breaks written out.
            let odd = #"{"uri": "urn:odd", "type": "x\u0000y\nz", "body_text": "Text."}"#
            let outcome = try await ingest.ingest(Data(odd.utf8), by: Self.ingestPrincipal, logger: newsroom.logger)
            #expect(outcome.status == .created)
            #expect(outcome.warnings.contains(#"a ninjs "xy\u{A}z" item, imported as a story"#), "\(outcome.warnings)")
            #expect(outcome.warnings.contains("replaced or removed 1 control character in the copy"), "\(outcome.warnings)")
        }
    }

    @Test func urgencyOutsideTheIPTCScaleIsLeftOut() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            // Urgency outside 1–9 (or not a whole number) is left out; 1e300 once trapped converting to Int.
            let cases: [(String, String, Int?)] = [
                ("urn:u1", "1e300", nil), ("urn:u2", "-1e300", nil), ("urn:u3", "2.5", nil), ("urn:u4", "0", nil),
                ("urn:u5", "3", 3),
            ]
            for (uri, urgency, expected) in cases {
                let item = #"{"uri": "\#(uri)", "urgency": \#(urgency), "body_text": "Text."}"#
                let outcome = try await ingest.ingest(Data(item.utf8), by: Self.ingestPrincipal, logger: newsroom.logger)
                let story = try await StoryStore(database: newsroom.database).story(outcome.storyId, logger: newsroom.logger)
                #expect(story.content.urgency == expected, "\(urgency)")
            }
        }
    }

    /// Feeds carry ANPA control codes, Windows-1252 punctuation read as C1 codes, line breaks in
    /// one-line fields and slashes in sluglines: the copy goes in, cleaned, and the payload stays
    /// as it came.
    @Test func agencyCopyIsCleanedNotRefused() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let stories = StoryStore(database: newsroom.database)
            let wire = Data("\u{1}\u{2}MOSCOW, Jan 6 (Reuters) - It didn\u{92}t stop.\nSecond\u{7F} paragraph.\u{3}".utf8)
            let fromWire = try await ingest.ingest(wire, by: Self.ingestPrincipal, logger: newsroom.logger)
            #expect(fromWire.warnings.contains("replaced or removed 5 control characters in the copy"), "\(fromWire.warnings)")
            let wireStory = try await stories.story(fromWire.storyId, logger: newsroom.logger)
            #expect(wireStory.content.body.map(\.text) == ["It didn\u{2019}t stop.", "Second paragraph."])
            let kept = try await ingest.payload(fromWire.itemId, logger: newsroom.logger)
            #expect(kept.data == wire)

            let ninjs = #"""
                {"uri": "urn:clean", "headline": "Line one\nline two", "located": "ALMATY\n",
                 "slugline": "KAZAKHSTAN-PROTESTS/ALMATY", "byline": "Olzhas\tAuyezov",
                 "body_html": "<p>It&#146;s &#0;done&#x110000;\u0001</p><p>&#9999999999;</p>"}
                """#
            let fromNinjs = try await ingest.ingest(Data(ninjs.utf8), by: Self.ingestPrincipal, logger: newsroom.logger)
            let story = try await stories.story(fromNinjs.storyId, logger: newsroom.logger)
            #expect(story.content.headline == "Line one line two")
            #expect(story.content.dateline?.place == "ALMATY")
            #expect(story.content.slug == "KAZAKHSTAN-PROTESTS-ALMATY")
            #expect(story.content.bylines.map(\.name) == ["Olzhas Auyezov"])
            #expect(story.content.body.map(\.text) == ["It\u{2019}s \u{FFFD}done\u{FFFD}", "\u{FFFD}"])
        }
    }

    @Test func teasersCanBecomeDraftsOfTheirOwn() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            let outcome = try await ingest.ingest(
                try TestDatabase.fixture("reuters-almaty-2022-01-07.txt"), splitTeasers: true, by: Self.ingestPrincipal,
                logger: newsroom.logger)
            #expect(outcome.teaserStoryIds.count == 20)
            let teaser = try await newsroom.stories.story(outcome.teaserStoryIds[0], logger: newsroom.logger)
            #expect(teaser.content.headline == "Findings by dark energy researchers back Einstein's conception of gravity")
            #expect(teaser.content.standfirst?.hasPrefix("The findings announced") == true)
            #expect(teaser.content.body.isEmpty)
            let main = try await newsroom.stories.story(outcome.storyId, logger: newsroom.logger)
            #expect(main.content.teasers.count == 20)
        }
    }

    @Test func storedPayloadsCannotBeRewritten() async throws {
        try await Newsroom.with { newsroom in
            let ingest = IngestService(database: newsroom.database)
            _ = try await ingest.ingest(
                try TestDatabase.fixture("reuters-almaty-2022-01-07.txt"), by: Self.ingestPrincipal, logger: newsroom.logger)
            await #expect(throws: (any Error).self) {
                try await newsroom.client.query("UPDATE ingest_items SET payload = 'x'", logger: newsroom.logger)
            }
            await #expect(throws: (any Error).self) {
                try await newsroom.client.query("DELETE FROM ingest_items", logger: newsroom.logger)
            }
            #expect(try await newsroom.count("SELECT count(*) FROM ingest_items") == 1)
        }
    }

    @Test func almatyExportsValidateAgainstNinjs22And31() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            for version in Ninjs.ExportVersion.allCases {
                let document = Ninjs.export(story, as: version)
                let (ok, report) = try await NinjsValidator.validate([document], as: version)
                #expect(ok, "\(report)")
                guard case .object(let item) = document else { Issue.record("not an object"); continue }
                #expect(item["located"] == .string("ALMATY"))
                #expect(item["copyrightHolder"] ?? item["copyrightholder"] == .string("Reuters"))
                #expect(item["pubStatus"] ?? item["pubstatus"] == .string("usable"))
                #expect(item["ednote"] == nil && item["edNote"] == nil)
                let html = item["bodies"]?.field("value")
                #expect(html == nil)  // bodies is an array
                if case .array(let bodies)? = item["bodies"], case .string(let value)? = bodies.first?.field("value") {
                    #expect(value.contains("<h2>ATTACK ON OUR CITIZENS</h2>"))
                } else {
                    Issue.record("no body")
                }
            }
        }
    }
}
