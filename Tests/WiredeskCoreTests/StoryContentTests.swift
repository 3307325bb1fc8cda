import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

@Suite struct StoryContentTests {
    @Test func almatyDocumentDecodesWithEveryField() throws {
        let story = try Newsroom.almaty()
        #expect(story.headline == "Fresh violence in Almaty as Russia sends paratroopers to Kazakhstan")
        #expect(story.dateline == Dateline(place: "ALMATY", date: "2022-01-07"))
        #expect(story.source == "Reuters")
        #expect(story.language == "en")
        #expect(story.urgency == 3)
        #expect(story.keywords == ["Kazakhstan", "Russia", "protests", "CSTO"])
        #expect(
            story.body.filter { $0.kind == .crosshead }.map(\.text) == ["ATTACK ON OUR CITIZENS", "LOOTERS CAME IN"])
        #expect(story.body.count == 28)
        #expect(story.pictures.first?.creditline == "Interior Ministry of Kazakhstan/ via REUTERS")
        #expect(
            story.pictures.first?.altText == "Demonstrators and law enforcement officers clash in a street in Aktobe")
        try story.validate()
    }

    @Test func unknownFieldsAreRefusedWithTheirPath() throws {
        let cases: [(String, String)] = [
            (#"{"headline": "A", "headlines": "B"}"#, "headlines"),
            (#"{"pictures": [{"caption": "c", "creditLine": "x"}]}"#, "pictures[0].creditLine"),
            (#"{"dateline": {"place": "ALMATY", "country": "KZ"}}"#, "dateline.country"),
            (#"{"body": [{"kind": "paragraph", "text": "t", "style": "bold"}]}"#, "body[0].style"),
        ]
        for (json, field) in cases {
            let error = try #require(throws: WiredeskError.self) {
                try JSONCoding.decode(StoryContent.self, from: Data(json.utf8))
            }
            #expect(error.kind == .malformed)
            #expect(error.fields.first?.field == field)
            #expect(error.fields.first?.message == "unknown field")
        }
    }

    @Test func wrongTypesAndMalformedJSONNameTheProblem() throws {
        let wrongType = try #require(throws: WiredeskError.self) {
            try JSONCoding.decode(StoryContent.self, from: Data(#"{"urgency": "high"}"#.utf8))
        }
        #expect(wrongType.fields.first?.field == "urgency")
        #expect(wrongType.fields.first?.message == "expected a number")

        let badKind = try #require(throws: WiredeskError.self) {
            try JSONCoding.decode(StoryContent.self, from: Data(#"{"body": [{"kind": "heading", "text": "x"}]}"#.utf8))
        }
        #expect(badKind.fields.first?.field == "body[0].kind")

        let malformed = try #require(throws: WiredeskError.self) {
            try JSONCoding.decode(StoryContent.self, from: Data(#"{"headline": "#.utf8))
        }
        #expect(malformed.message.contains("malformed JSON"))

        let badDate = try #require(throws: WiredeskError.self) {
            try JSONCoding.decode(StoryContent.self, from: Data(#"{"embargo": "tomorrow"}"#.utf8))
        }
        #expect(badDate.fields.first?.field == "embargo")
    }

    @Test func textIsKeptExactlyAsGiven() throws {
        let text = "«Ça ira» — “quoted” ‘single’ – dash… Zürich 東京 مرحبا 👩🏽‍💻 e\u{301}"
        let json = try JSONCoding.encode(["headline": text])
        let content = try JSONCoding.decode(StoryContent.self, from: json)
        #expect(Array(content.headline!.unicodeScalars) == Array(text.unicodeScalars))
        let roundTrip = try JSONCoding.decode(StoryContent.self, from: try JSONCoding.encode(content))
        #expect(Array(roundTrip.headline!.unicodeScalars) == Array(text.unicodeScalars))
    }

    @Test func validationNamesEveryFieldAtFault() throws {
        var content = try Newsroom.almaty()
        content.headline = String(repeating: "x", count: Limits.headline + 1)
        content.slug = "has spaces"
        content.language = "english!"
        content.urgency = 10
        content.dateline = Dateline(place: "ALMATY", date: "2022-02-30")
        content.pictures[0].uri = "not a uri"
        content.keywords = ["ok", "  "]
        content.body[0].text = "tab\tand bell\u{7}"
        content.standfirst = "line\nbreak is fine in running text"
        content.bylines = Array(repeating: Byline(name: "A. Writer"), count: Limits.bylines + 1)
        let error = try #require(throws: WiredeskError.self) { try content.validate() }
        #expect(error.kind == .validation)
        #expect(
            Set(error.fields.map(\.field)) == [
                "headline", "slug", "language", "urgency", "dateline.date", "pictures[0].uri", "keywords[1]",
                "body[0].text", "bylines",
            ])
        #expect(error.fields.first { $0.field == "body[0].text" }?.message == "control character U+0007 is not allowed")
        #expect(error.fields.first { $0.field == "headline" }?.message == "at most 300 characters (got 301)")
    }

    @Test func pictureLinksThatRunScriptOrReadLocalFilesAreRefused() throws {
        var content = try Newsroom.almaty()
        for uri in ["javascript:alert(1)", "JavaScript:alert(1)", "vbscript:msgbox", "data:text/html,<b>x</b>", "file:///etc/passwd"] {
            content.pictures[0].uri = uri
            let error = try #require(throws: WiredeskError.self) { try content.validate() }
            #expect(error.fields.map(\.field) == ["pictures[0].uri"], "\(uri)")
        }
        // Identifiers are not links: IPTC's own examples use tag: and urn:.
        for uri in ["https://example.com/p.jpg", "http://example.com/p.jpg", "tag:reuters.com,2022:newsml_X", "urn:uuid:1"] {
            content.pictures[0].uri = uri
            try content.validate()
        }
    }

    @Test func ninjsPicturesKeepOnlyLinksThatMayTravel() throws {
        let item = #"""
            {"uri": "urn:x:pics", "headlines": [{"role": "main", "value": "Pictures"}],
             "associations": [
                {"name": "a", "type": "picture", "uri": "javascript:alert(1)", "descriptions": [{"role": "caption", "value": "A"}]},
                {"name": "b", "type": "picture", "uri": "tag:example.com,2026:pic-b", "descriptions": [{"role": "caption", "value": "B"}]},
                {"name": "c", "type": "picture", "uri": "https://example.com/c.jpg", "descriptions": [{"role": "caption", "value": "C"}]}]}
            """#
        let parsed = try Ninjs.parse(Data(item.utf8))
        #expect(parsed.content.pictures.map(\.uri) == [nil, "tag:example.com,2026:pic-b", "https://example.com/c.jpg"])
        #expect(parsed.warnings.contains { $0.contains("left out 1 picture link") })
        try parsed.content.validate()

        let story = Story(
            id: UUID(), state: .draft, version: 1, content: parsed.content, createdAt: Date(), createdBy: "ed",
            updatedAt: Date(), updatedBy: "ed", publishedAt: nil, corrections: [], killNotice: nil)
        for version in Ninjs.ExportVersion.allCases {
            guard case .object(let exported) = Ninjs.export(story, as: version),
                case .array(let associations)? = exported["associations"]
            else {
                Issue.record("no associations")
                continue
            }
            let hrefs = associations.compactMap { $0.field("renditions") }.flatMap { renditions -> [String] in
                guard case .array(let list) = renditions else { return [] }
                return list.compactMap { $0.field("href")?.string }
            }
            #expect(hrefs == ["https://example.com/c.jpg"])
        }
    }

    @Test func headlineLimitCountsCodePointsNotBytes() throws {
        var content = StoryContent()
        content.headline = String(repeating: "é", count: Limits.headline)  // 600 bytes, 300 code points
        try content.validate()
        content.headline = String(repeating: "東", count: Limits.headline + 1)
        #expect(throws: WiredeskError.self) { try content.validate() }
        content.headline = "Breaking\nnews"
        #expect(throws: WiredeskError.self) { try content.validate() }
    }

    @Test func languageTagsAndDates() {
        for tag in ["en", "de", "pt-BR", "zh-Hant-TW", "sr-Latn"] { #expect(StoryContent.isLanguageTag(tag), "\(tag)") }
        // Well-formed but longer than the spec's 35 characters.
        for tag in ["", "e", "english", "en_GB", "en-", "1n", "en-aaaaaaaa-bbbbbbbb-cccccccc-dddddddd"] {
            #expect(!StoryContent.isLanguageTag(tag), "\(tag)")
        }
        for date in ["2022-01-07", "2024-02-29"] { #expect(StoryContent.isCalendarDate(date)) }
        for date in ["2023-02-29", "2022-13-01", "2022-1-7", "07.01.2022", "2022-01-07T00:00:00Z"] {
            #expect(!StoryContent.isCalendarDate(date), "\(date)")
        }
    }

    /// Timestamps are RFC 3339 both ways: lower-case `t` and `z` are read, and an instant whose UTC
    /// year has no four-digit form (it would be written back as `-0001-…` or `10000-…`) is refused.
    @Test func timestampsStayWithinWhatRFC3339CanWrite() {
        for (text, written) in [
            ("2026-01-07t09:30:00z", "2026-01-07T09:30:00.000Z"), ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
            ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"), ("2026-01-07T10:30:00+01:00", "2026-01-07T09:30:00.000Z"),
            ("2026-01-07T09:30:00.999Z", "2026-01-07T09:30:00.999Z"), ("2026-01-07T09:30:00.001Z", "2026-01-07T09:30:00.001Z"),
            ("9999-12-31T23:59:59.998Z", "9999-12-31T23:59:59.998Z"),
            ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
            ("9999-12-31T23:59:59.9994Z", "9999-12-31T23:59:59.999Z"),
        ] {
            #expect(JSONCoding.parseDate(text).map(JSONCoding.formatDate) == written, "\(text)")
        }
        for text in [
            "0000-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59.9996Z", "9999-12-31T23:59:59.9995Z", "next tuesday",
        ] {
            #expect(JSONCoding.parseDate(text) == nil, "\(text)")
        }
    }

    @Test func mergePatchFollowsRFC7386() throws {
        let content = try Newsroom.almaty()
        let patched = try content.applying(
            .object([
                "headline": .string("New headline"),
                "creditline": .null,
                "dateline": .object(["date": .string("2022-01-08")]),
            ]))
        #expect(patched.headline == "New headline")
        #expect(patched.creditline == nil)
        #expect(patched.dateline == Dateline(place: "ALMATY", date: "2022-01-08"))
        #expect(patched.body == content.body)

        let serverField = try #require(throws: WiredeskError.self) {
            try content.applying(.object(["state": .string("published")]))
        }
        #expect(serverField.fields.first?.field == "state")
        #expect(throws: WiredeskError.self) { try content.applying(.array([])) }
        // Removing a field no story has is refused by name, though it would change nothing
        // (schemathesis sent `{"": null}`).
        for (patch, field) in [
            (JSONValue.object(["": .null]), #""""#), (.object(["nonsense": .null, "headline": .string("x")]), "nonsense"),
            (.object(["dateline": .object(["weather": .null])]), "dateline.weather"),
        ] {
            let unknown = try #require(throws: WiredeskError.self) { try content.applying(patch) }
            #expect(unknown.fields.first?.field == field)
        }
        #expect(throws: WiredeskError.self) { try content.applying(.object(["urgency": .number(12)])) }
    }

    @Test func fieldDiffNamesChangedFields() throws {
        var new = try Newsroom.almaty()
        let old = new
        new.body[3].text = "Changed."
        new.headline = nil
        new.pictures[0].creditline = "REUTERS"
        new.keywords.append("Tokayev")
        let diff = FieldDiff.between(try JSONValue(encoding: old), try JSONValue(encoding: new))
        #expect(diff.map(\.field) == ["body[3].text", "headline", "keywords", "pictures[0].creditline"])
        #expect(diff[0].to == .string("Changed."))
        #expect(diff[1].to == nil)
        #expect(FieldDiff.between(try JSONValue(encoding: old), try JSONValue(encoding: old)).isEmpty)
    }
}
