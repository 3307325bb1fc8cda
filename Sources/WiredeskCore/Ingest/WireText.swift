import Foundation

/// What an importer recovered from one agency item, and what it noticed on the way.
public struct ParsedItem: Sendable, Equatable {
    /// `wire-text`, `ninjs-1`, `ninjs-2`, `ninjs-3`, `nitf` or `newsml-g2`.
    public var format: String
    public var content: StoryContent
    /// The agency's own identifier for the item (ninjs `uri`, NewsML-G2 `guid`), when it has one.
    public var agencyURI: String?
    public var agencyVersion: String?
    public var warnings: [String]
    /// Where in the payload the item is, when the payload holds several (a NewsML-G2
    /// newsMessage): those bytes are what is kept of it.
    public var byteRange: Range<Int>?
    /// The media type of the item's own bytes, when it differs from the payload's.
    public var mediaType: String?
    /// A picture item (NewsML-G2 `ninat:picture`): a story whose one picture is the item.
    var isPicture = false

    public init(
        format: String, content: StoryContent, agencyURI: String? = nil, agencyVersion: String? = nil,
        warnings: [String] = [], byteRange: Range<Int>? = nil, mediaType: String? = nil
    ) {
        self.format = format
        self.content = content
        self.agencyURI = agencyURI
        self.agencyVersion = agencyVersion
        self.warnings = warnings
        self.byteRange = byteRange
        self.mediaType = mediaType
    }
}

/// Plain wire copy as it reaches a newsroom: a lead that opens with a dateline, paragraphs with
/// all-capitals crossheads, and, on copy scraped from a page, a trailer of agency line, date line,
/// picture caption and the page's other headlines. Agencies differ in the dateline
/// (`ALMATY:`, `MOSCOW, Jan 6 (Reuters) -`, `GROSSETO, Italy (AP) --`, `Berlin (dpa) -`); copy in a
/// shape this does not know still imports, as paragraphs, with a warning: the copy is never lost.
public enum WireText {
    /// `received` is when the copy came in: a dateline's `Jan 6` without a year means the Jan 6
    /// nearest to it when the page gives no date of its own.
    public static func parse(_ text: String, language: String = "en", received: Date = Date()) -> ParsedItem {
        let lines = Self.lines(text)
        var content = StoryContent(language: language)
        var warnings: [String] = []
        guard let first = lines.first else {
            return ParsedItem(format: "wire-text", content: content, warnings: ["the copy is empty"])
        }
        guard let lead = Dateline.parse(first) else {
            content.body = lines.map { BodyBlock(.paragraph, $0) }
            warnings.append("no dateline recognised in the first line; the copy was imported as it came")
            return ParsedItem(format: "wire-text", content: content, warnings: warnings)
        }
        var dateline = WiredeskCore.Dateline(place: lead.place, date: lead.date)
        content.source = lead.agency

        // The trailer starts at an agency line directly followed by a date line.
        var bodyEnd = lines.count
        var rest: ArraySlice<String> = []
        if let i = lines.indices.dropFirst().first(where: { i in
            i + 1 < lines.count && isAgencyLine(lines[i]) && calendarDate(lines[i + 1]) != nil
        }) {
            bodyEnd = i
            content.source = lines[i]
            let pageDate = calendarDate(lines[i + 1])
            if dateline.date == nil {
                dateline.date = lead.monthDay.flatMap { nearest($0, to: pageDate.flatMap(day) ?? received) } ?? pageDate
            }
            rest = lines[(i + 2)...]
        }
        if dateline.date == nil, let monthDay = lead.monthDay { dateline.date = nearest(monthDay, to: received) }
        content.dateline = dateline
        if content.source == nil { warnings.append("no agency named in the dateline or the trailer") }

        var body = [BodyBlock(.paragraph, lead.text)]
        for line in lines[1..<bodyEnd] {
            if let heading = crosshead(line) {
                body.append(BodyBlock(.crosshead, heading))
            } else {
                body.append(BodyBlock(.paragraph, line))
            }
        }
        content.body = body

        if let line = rest.first, let (caption, credit) = pictureCaption(line) {
            content.pictures = [Picture(caption: caption, creditline: credit)]
            rest = rest.dropFirst()
        }
        var teasers = Array(rest)
        if teasers.count % 2 == 1 {
            warnings.append("the last of the page's other headlines has no standfirst")
            teasers.append("")
        }
        var pairs: [Teaser] = []
        for i in stride(from: 0, to: teasers.count, by: 2) {
            let standfirst: String? = teasers[i + 1].isEmpty ? nil : teasers[i + 1]
            pairs.append(Teaser(headline: teasers[i], standfirst: standfirst))
        }
        content.teasers = pairs
        return ParsedItem(format: "wire-text", content: content, warnings: warnings)
    }

    /// The opening of a lead: where, sometimes when, and from which agency.
    struct Dateline: Equatable {
        var place: String
        var date: String?
        /// `Jan 6`: a date without its year.
        var monthDay: MonthDay?
        var agency: String?
        /// The lead without its dateline.
        var text: String

        /// Read by hand, in one pass over the start of the line: a regular expression with
        /// unbounded runs next to each other backtracks without end on a hostile line.
        static func parse(_ line: String) -> Dateline? {
            agencyForm(line) ?? colonForm(line)
        }

        /// `MOSCOW, Jan 6 (Reuters) - …`, `GROSSETO, Italy (AP) -- …`, `Berlin (dpa) - …`: a place,
        /// perhaps a country or a date after a comma, the agency in parentheses, a dash.
        private static func agencyForm(_ line: String) -> Dateline? {
            let scalars = line.unicodeScalars
            // Place, comma and extra come before the agency: at most 41 + 1 + 40 characters and the
            // spaces between them; look no further than that for the parenthesis.
            guard let open = scalars.prefix(120).firstIndex(of: "(") else { return nil }
            let head = scalars[..<open]
            var place: Substring.UnicodeScalarView
            var extra: String?
            if let comma = head.firstIndex(of: ",") {
                place = head[..<comma]
                let text = String(Substring(trimmed(head[head.index(after: comma)...])))
                guard (1...40).contains(text.unicodeScalars.count) else { return nil }
                extra = text
            } else {
                place = head
            }
            place = trimmedEnd(place)
            guard isPlace(place, letters: { isLetter($0) || $0 == " " }, length: 1...41) else { return nil }
            let afterOpen = scalars.index(after: open)
            guard let close = scalars[afterOpen...].prefix(41).firstIndex(where: { $0 == ")" || $0 == "(" }),
                scalars[close] == ")"
            else { return nil }
            let agency = scalars[afterOpen..<close]
            guard (2...40).contains(agency.count) else { return nil }
            var i = skipSpaces(scalars, from: scalars.index(after: close))
            guard i < scalars.endIndex else { return nil }
            switch scalars[i] {
            case "-":
                i = scalars.index(after: i)
                if i < scalars.endIndex, scalars[i] == "-" { i = scalars.index(after: i) }
            case "\u{2013}", "\u{2014}":
                i = scalars.index(after: i)
            default:
                return nil
            }
            guard let rest = lead(scalars, from: i) else { return nil }
            var placeText = String(Substring(place))
            var date: String?
            var monthDay: MonthDay?
            if let extra {
                if let parsed = calendarDate(extra) {
                    date = parsed
                } else if let parsed = WireText.monthDay(extra) {
                    monthDay = parsed
                } else {
                    placeText += ", " + extra
                }
            }
            return Dateline(
                place: placeText, date: date, monthDay: monthDay,
                agency: String(Substring(agency)), text: rest)
        }

        /// `ALMATY: …`: a place in capitals and a colon.
        private static func colonForm(_ line: String) -> Dateline? {
            let scalars = line.unicodeScalars
            guard let colon = scalars.prefix(42).firstIndex(of: ":") else { return nil }
            let place = scalars[..<colon]
            guard isPlace(place, letters: { isUppercase($0) || $0 == " " }, length: 2...41) else { return nil }
            let afterColon = scalars.index(after: colon)
            guard afterColon < scalars.endIndex, scalars[afterColon].properties.isWhitespace,
                let rest = lead(scalars, from: afterColon)
            else { return nil }
            return Dateline(place: String(Substring(place)), text: rest)
        }

        /// A place starts with a capital; after it come `letters`, `.`, `'`, `’`, `-`, and accents.
        private static func isPlace(
            _ place: Substring.UnicodeScalarView, letters: (Unicode.Scalar) -> Bool, length: ClosedRange<Int>
        ) -> Bool {
            guard let first = place.first, isUppercase(first), length.contains(place.count) else { return false }
            return place.dropFirst().allSatisfy { scalar in
                letters(scalar) || ".'’-".unicodeScalars.contains(scalar)
                    || scalar.properties.generalCategory == .nonspacingMark
            }
        }

        /// The lead after its dateline: whitespace, then at least one character that is not.
        private static func lead(_ scalars: String.UnicodeScalarView, from start: String.UnicodeScalarView.Index)
            -> String?
        {
            guard start < scalars.endIndex, scalars[start].properties.isWhitespace else { return nil }
            let i = skipSpaces(scalars, from: start)
            guard i < scalars.endIndex else { return nil }
            return String(Substring(scalars[i...]))
        }

        private static func skipSpaces(_ scalars: String.UnicodeScalarView, from start: String.UnicodeScalarView.Index)
            -> String.UnicodeScalarView.Index
        {
            scalars[start...].firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        }

        private static func trimmed(_ text: Substring.UnicodeScalarView) -> Substring.UnicodeScalarView {
            trimmedEnd(text.drop { $0.properties.isWhitespace })
        }

        private static func trimmedEnd(_ text: Substring.UnicodeScalarView) -> Substring.UnicodeScalarView {
            var end = text.endIndex
            while end > text.startIndex, text[text.index(before: end)].properties.isWhitespace {
                end = text.index(before: end)
            }
            return text[..<end]
        }

        private static func isUppercase(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.generalCategory == .uppercaseLetter
        }

        private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
            default: false
            }
        }
    }

    /// The non-empty lines of `text`, trimmed of spaces and tabs, split at `\n` or `\r\n`. Read as
    /// UTF-8 bytes: a line break is one byte, and nothing is scanned twice.
    static func lines(_ text: String) -> [String] {
        var lines: [String] = []
        for slice in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let line = trimmed(Substring(slice).unicodeScalars) { isHorizontalSpace($0) || $0 == "\r" }
            if !line.isEmpty { lines.append(String(Substring(line))) }
        }
        return lines
    }

    /// `text` without the leading and trailing scalars `drop` names.
    static func trimmed(
        _ text: Substring.UnicodeScalarView, _ drop: (Unicode.Scalar) -> Bool
    ) -> Substring.UnicodeScalarView {
        guard let first = text.firstIndex(where: { !drop($0) }) else { return text[text.endIndex...] }
        var end = text.endIndex
        while end > first, drop(text[text.index(before: end)]) { end = text.index(before: end) }
        return text[first..<end]
    }

    /// Spaces and tabs, as `CharacterSet.whitespaces` has them (category Zs, and tab).
    static func isHorizontalSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == " " || scalar == "\t" }
        return scalar.properties.generalCategory == .spaceSeparator
    }

    /// A crosshead is a short line in capitals, often quoted: `"ATTACK ON OUR CITIZENS"`.
    static func crosshead(_ line: String) -> String? {
        // Crossheads are short: a long line is not one, whatever its case (and is not scanned).
        guard line.utf8.count <= 400 else { return nil }
        let unquoted = trimmed(Substring(line).unicodeScalars) { quotes.contains($0) }
        let text = String(Substring(trimmed(unquoted, isHorizontalSpace)))
        var letters = 0
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                switch scalar.value {
                case 0x61...0x7A: return nil  // a-z
                case 0x41...0x5A: letters += 1  // A-Z
                default: break
                }
                continue
            }
            switch scalar.properties.generalCategory {
            case .lowercaseLetter: return nil
            case .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .nonspacingMark, .spacingMark,
                .enclosingMark:
                letters += 1
            default: break
            }
        }
        guard letters >= 3, text.count <= 80, text.split(separator: " ").count <= 12, !text.hasSuffix(".") else {
            return nil
        }
        return text
    }

    private static let quotes: Set<Unicode.Scalar> = ["\"", "“", "”", "«", "»", "'", "‘", "’"]

    static let knownAgencies: Set<String> = [
        "reuters", "ap", "associated press", "afp", "agence france-presse", "dpa", "epa", "ansa", "efe", "bernama",
        "kyodo", "xinhua", "tass", "ria", "pa", "upi", "yonhap", "tt", "ntb", "ritzau", "anp", "belga", "apa", "sda",
        "keystone-sda", "aap", "cp", "pti", "ani", "bloomberg",
    ]

    /// A short line naming an agency: known, or one to four capitalised words.
    static func isAgencyLine(_ line: String) -> Bool {
        // One to four words (every known agency's name is): counted on the bytes before anything
        // is allocated, as every line of the copy is asked.
        guard line.utf8.count <= 160 else { return false }
        var spaces = 0
        for byte in line.utf8 where byte == UInt8(ascii: " ") {
            spaces += 1
            if spaces > 3 { return false }
        }
        if knownAgencies.contains(line.lowercased()) { return true }
        let words = line.split(separator: " ")
        return (1...4).contains(words.count) && line.count <= 40
            && words.allSatisfy { $0.first?.isUppercase == true } && !line.contains(where: { ".!?:".contains($0) })
    }

    /// A caption line ends in ` - ` and a credit: `… January 5, 2022. - Interior Ministry of Kazakhstan/ via REUTERS`.
    static func pictureCaption(_ line: String) -> (caption: String, credit: String)? {
        // A caption is a paragraph, not a page: a longer line is not one (and is not searched).
        guard line.utf8.count <= 4_000, let range = line.range(of: " - ", options: .backwards) else { return nil }
        let caption = line[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let credit = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
        let marks = ["REUTERS", "Reuters", " via ", "/", "Photo", "Foto", "AFP", "AP", "Getty", "EPA", "dpa", "©", "Credit"]
        guard !caption.isEmpty, !credit.isEmpty, credit.count <= 200, caption.count >= 20,
            marks.contains(where: { credit.contains($0) })
        else { return nil }
        return (caption, credit)
    }

    static let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]

    struct MonthDay: Equatable {
        var month: Int
        var day: Int
    }

    /// `Jan 6`, `January 6` or `6 January`.
    static func monthDay(_ text: String) -> MonthDay? {
        guard text.utf8.count <= 40 else { return nil }
        let words = text.replacingOccurrences(of: ",", with: " ").replacingOccurrences(of: ".", with: " ")
            .split(separator: " ").map(String.init)
        guard words.count == 2 else { return nil }
        for (m, d) in [(words[0], words[1]), (words[1], words[0])] {
            if let month = month(m), let day = Int(d), (1...31).contains(day) { return MonthDay(month: month, day: day) }
        }
        return nil
    }

    /// The year that puts `monthDay` nearest to `reference`, as `YYYY-MM-DD`: copy datelined
    /// Dec 31 and read on Jan 1 is last year's.
    static func nearest(_ monthDay: MonthDay, to reference: Date) -> String? {
        let year = utc.component(.year, from: reference)
        let candidates = (year - 1...year + 1).compactMap { year -> (String, Date)? in
            let text = String(format: "%04d-%02d-%02d", year, monthDay.month, monthDay.day)
            return day(text).map { (text, $0) }
        }
        return candidates.min { abs($0.1.timeIntervalSince(reference)) < abs($1.1.timeIntervalSince(reference)) }?.0
    }

    /// Midnight UTC of a `YYYY-MM-DD` calendar date that exists.
    private static func day(_ text: String) -> Date? {
        guard StoryContent.isCalendarDate(text) else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        return utc.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private static func month(_ word: String) -> Int? {
        let lower = word.lowercased()
        guard lower.count >= 3, let index = months.firstIndex(where: { lower.hasPrefix($0) }) else { return nil }
        return index + 1
    }

    /// A full calendar date in the forms agencies write it, as `YYYY-MM-DD`:
    /// `Fri Jan 07 2022`, `Friday, January 7, 2022`, `7 January 2022`, `2022-01-07`.
    static func calendarDate(_ text: String) -> String? {
        guard text.utf8.count <= 60 else { return nil }
        if text.count == 10, StoryContent.isCalendarDate(text) { return text }
        let words = text.replacingOccurrences(of: ",", with: " ").replacingOccurrences(of: ".", with: " ")
            .split(separator: " ").map(String.init)
        guard (3...4).contains(words.count) else { return nil }
        var year: Int?
        var monthNumber: Int?
        var day: Int?
        for (i, word) in words.enumerated() {
            if let number = Int(word) {
                if word.count == 4 { year = number } else if (1...31).contains(number) { day = number } else { return nil }
            } else if let m = month(word), monthNumber == nil {
                monthNumber = m
            } else if i != 0 {
                return nil  // only a weekday may lead
            }
        }
        guard let year, let monthNumber, let day else { return nil }
        let date = String(format: "%04d-%02d-%02d", year, monthNumber, day)
        return StoryContent.isCalendarDate(date) ? date : nil
    }
}
