import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

@Suite struct WireTextTests {
    @Test func almatyCopyYieldsEveryExpectedField() throws {
        let text = String(decoding: try TestDatabase.fixture("reuters-almaty-2022-01-07.txt"), as: UTF8.self)
        let expected = try JSONCoding.decode(
            StoryContent.self, from: try TestDatabase.fixture("reuters-almaty-2022-01-07.expected.json"))
        let parsed = WireText.parse(text)
        #expect(parsed.warnings.isEmpty)
        #expect(parsed.content.dateline == Dateline(place: "ALMATY", date: "2022-01-07"))
        #expect(parsed.content.source == "Reuters")
        #expect(parsed.content.headline == nil)
        #expect(parsed.content.pictures == expected.pictures)
        #expect(parsed.content.pictures.first?.creditline == "Interior Ministry of Kazakhstan/ via REUTERS")
        #expect(
            parsed.content.body.filter { $0.kind == .crosshead }.map(\.text) == ["ATTACK ON OUR CITIZENS", "LOOTERS CAME IN"])
        #expect(parsed.content.body.first?.text.hasPrefix("Fresh violence erupted") == true)
        #expect(parsed.content.body == expected.body)
        #expect(parsed.content.teasers.count == 20)
        #expect(parsed.content.teasers[3].headline == "Malaysia's inflation at 1.9 pct in Oct 2024 - DOSM")
        #expect(parsed.content.teasers == expected.teasers)
        #expect(!parsed.content.body.contains { $0.text.contains("Neuralink") }, "teasers leaked into the body")
        #expect(parsed.content == expected)
    }

    @Test(
        arguments: [
            (
                "MOSCOW, Jan 6 (Reuters) - Russia said on Thursday it had sent paratroopers.", "MOSCOW", "2022-01-06", "Reuters",
                "Russia said on Thursday it had sent paratroopers."
            ),
            (
                "GROSSETO, Italy (AP) -- The trial of the captain has begun.", "GROSSETO, Italy", nil, "AP",
                "The trial of the captain has begun."
            ),
            (
                "Berlin (dpa) - Die Bundesregierung hat am Freitag beschlossen.", "Berlin", nil, "dpa",
                "Die Bundesregierung hat am Freitag beschlossen."
            ),
            (
                "KYIV, January 7, 2022 (AFP) — Ukraine closed its border.", "KYIV", "2022-01-07", "AFP",
                "Ukraine closed its border."
            ),
            ("ALMATY: Fresh violence erupted.", "ALMATY", nil, nil, "Fresh violence erupted."),
        ] as [(String, String, String?, String?, String)])
    func datelinesOfTheAgencyFamily(_ lead: String, _ place: String, _ date: String?, _ agency: String?, _ text: String) {
        let parsed = WireText.parse(lead + "\nSecond paragraph.", received: Self.day("2022-01-07"))
        #expect(parsed.content.dateline?.place == place)
        #expect(parsed.content.dateline?.date == date)
        #expect(parsed.content.source == agency)
        #expect(parsed.content.body.map(\.text) == [text, "Second paragraph."])
    }

    static func day(_ text: String) -> Date { JSONCoding.parseDate(text + "T09:30:00Z")! }

    @Test func aDatelineDayWithoutItsYearIsTheNearestOne() {
        let lead = "MOSCOW, Dec 31 (Reuters) - Russia said on Friday.\nSecond paragraph."
        #expect(WireText.parse(lead, received: Self.day("2023-01-02")).content.dateline?.date == "2022-12-31")
        #expect(WireText.parse(lead, received: Self.day("2022-12-30")).content.dateline?.date == "2022-12-31")
        let leap = "ROME, 29 February (AP) -- Text.\nMore."
        #expect(WireText.parse(leap, received: Self.day("2024-03-01")).content.dateline?.date == "2024-02-29")
        #expect(WireText.parse(leap, received: Self.day("2023-03-01")).content.dateline?.date == "2024-02-29")
        // The page's own date decides the year, and the dateline keeps its own day.
        let page = "MOSCOW, Jan 6 (Reuters) - Russia said.\nSecond paragraph.\nReuters\nFri Jan 07 2022"
        #expect(WireText.parse(page, received: Self.day("2026-11-27")).content.dateline?.date == "2022-01-06")
    }

    @Test func datesInTheFormsAgenciesWriteThem() {
        for (text, date) in [
            ("Fri Jan 07 2022", "2022-01-07"), ("Friday, January 7, 2022", "2022-01-07"), ("7 January 2022", "2022-01-07"),
            ("2022-01-07", "2022-01-07"), ("Feb 29 2024", "2024-02-29"),
        ] {
            #expect(WireText.calendarDate(text) == date, "\(text)")
        }
        for text in ["Feb 30 2024", "Jan 07", "Fresh violence erupted", "2022", "Fri Jan 07 2022 extra words"] {
            #expect(WireText.calendarDate(text) == nil, "\(text)")
        }
    }

    @Test func unknownShapesKeepTheCopyWithAWarning() {
        let text = "no dateline here, just copy\nand a second line\n\n  \nand a third"
        let parsed = WireText.parse(text)
        #expect(parsed.content.body.map(\.text) == ["no dateline here, just copy", "and a second line", "and a third"])
        #expect(parsed.warnings.count == 1)
        #expect(parsed.warnings[0].contains("no dateline"))
        #expect(WireText.parse("  \n \n").warnings == ["the copy is empty"])
    }

    @Test func crossheadsAreShortCapitalLines() {
        #expect(WireText.crosshead("\"ATTACK ON OUR CITIZENS\"") == "ATTACK ON OUR CITIZENS")
        #expect(WireText.crosshead("“LOOTERS CAME IN”") == "LOOTERS CAME IN")
        #expect(WireText.crosshead("NATO SAYS NO.") == nil)
        #expect(WireText.crosshead("Looters came in") == nil)
        #expect(WireText.crosshead("OK") == nil)
    }
}
