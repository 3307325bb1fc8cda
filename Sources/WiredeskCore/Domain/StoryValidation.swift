import Foundation

/// Length limits, in Unicode code points (as JSON Schema's maxLength counts, so the OpenAPI spec
/// and the server agree). Generous for real copy, small enough that a runaway script cannot fill
/// the database through one field.
public enum Limits {
    public static let headline = 300
    public static let slug = 128
    public static let standfirst = 1_000
    public static let shortText = 200  // place, source, names, titles, photographer
    public static let bylines = 50
    public static let language = 35
    public static let creditline = 500
    public static let copyright = 500
    public static let keyword = 100
    public static let keywords = 50
    public static let subjects = 50
    public static let renditions = 20
    public static let renditionName = 64
    public static let mediaType = 255
    /// Pixels on a side.
    public static let dimension = 1_000_000
    public static let ednote = 5_000
    public static let blockText = 20_000
    public static let bodyBlocks = 2_000
    public static let pictures = 100
    public static let caption = 2_000
    public static let altText = 1_000
    public static let uri = 2_048
    public static let reason = 2_000
    public static let teasers = 100
    public static let fileName = 255
}

extension StoryContent {
    /// Every rule a story must meet in any state; the workflow adds more before it moves on.
    public func validate() throws {
        var v = Validator()
        v.line(headline, "headline", max: Limits.headline)
        v.line(slug, "slug", max: Limits.slug)
        if let slug, !slug.isEmpty, !slug.unicodeScalars.allSatisfy(Self.isSlugScalar) {
            v.fail("slug", "one word: letters, digits, '-', '_' and '.' (no spaces or other punctuation)")
        }
        v.text(standfirst, "standfirst", max: Limits.standfirst)
        if let dateline {
            v.line(dateline.place, "dateline.place", max: Limits.shortText)
            if let date = dateline.date, !Self.isCalendarDate(date) {
                v.fail("dateline.date", "expected a calendar date YYYY-MM-DD")
            }
        }
        v.line(source, "source", max: Limits.shortText)
        v.count(bylines, "bylines", max: Limits.bylines)
        for (i, byline) in bylines.enumerated() {
            v.line(byline.name, "bylines[\(i)].name", max: Limits.shortText)
            v.line(byline.title, "bylines[\(i)].title", max: Limits.shortText)
        }
        v.line(creditline, "creditline", max: Limits.creditline)
        v.line(copyright, "copyright", max: Limits.copyright)
        if let language, !Self.isLanguageTag(language) {
            v.fail("language", "expected a BCP 47 language tag such as en, de or pt-BR")
        }
        if let urgency, !(1...9).contains(urgency) {
            v.fail("urgency", "expected 1 (most urgent) to 9")
        }
        v.count(keywords, "keywords", max: Limits.keywords)
        for (i, keyword) in keywords.enumerated() {
            v.line(keyword, "keywords[\(i)]", max: Limits.keyword)
        }
        v.count(subjects, "subjects", max: Limits.subjects)
        for (i, subject) in subjects.enumerated() {
            if subject.code == nil && subject.name == nil {
                v.fail("subjects[\(i)]", "a subject needs a code, a name or both")
            }
            v.line(subject.code, "subjects[\(i)].code", max: Limits.uri)
            v.line(subject.name, "subjects[\(i)].name", max: Limits.shortText)
        }
        v.text(ednote, "ednote", max: Limits.ednote)
        v.count(body, "body", max: Limits.bodyBlocks)
        for (i, block) in body.prefix(Limits.bodyBlocks).enumerated() {
            switch block.kind {
            case .paragraph: v.text(block.text, "body[\(i)].text", max: Limits.blockText)
            case .crosshead: v.line(block.text, "body[\(i)].text", max: Limits.headline)
            }
        }
        v.count(pictures, "pictures", max: Limits.pictures)
        for (i, picture) in pictures.enumerated() {
            v.text(picture.caption, "pictures[\(i)].caption", max: Limits.caption)
            v.line(picture.creditline, "pictures[\(i)].creditline", max: Limits.creditline)
            v.text(picture.altText, "pictures[\(i)].altText", max: Limits.altText)
            v.line(picture.photographer, "pictures[\(i)].photographer", max: Limits.shortText)
            v.link(picture.uri, "pictures[\(i)].uri")
            v.count(picture.renditions, "pictures[\(i)].renditions", max: Limits.renditions)
            for (j, rendition) in picture.renditions.prefix(Limits.renditions).enumerated() {
                let field = "pictures[\(i)].renditions[\(j)]"
                v.line(rendition.name, "\(field).name", max: Limits.renditionName)
                v.link(rendition.href, "\(field).href")
                v.line(rendition.mediaType, "\(field).mediaType", max: Limits.mediaType)
                for (value, name) in [(rendition.width, "width"), (rendition.height, "height")] {
                    if let value, !(1...Limits.dimension).contains(value) {
                        v.fail("\(field).\(name)", "expected 1 to \(Limits.dimension) pixels")
                    }
                }
            }
        }
        v.count(teasers, "teasers", max: Limits.teasers)
        for (i, teaser) in teasers.enumerated() {
            v.line(teaser.headline, "teasers[\(i)].headline", max: Limits.headline)
            v.text(teaser.standfirst, "teasers[\(i)].standfirst", max: Limits.standfirst)
        }
        try v.finish()
    }

    /// Schemes a browser or a downstream system would run or read locally, not fetch.
    static let refusedSchemes: Set<String> = ["javascript", "vbscript", "data", "file"]

    /// The scheme of an absolute URI, lower-cased: a letter, then letters, digits, `+`, `-` or
    /// `.`, up to the first `:` (RFC 3986).
    static func uriScheme(_ uri: String) -> String? {
        var scheme = ""
        for byte in uri.utf8 {
            switch byte {
            case UInt8(ascii: ":"):
                return scheme.isEmpty ? nil : scheme.lowercased()
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                scheme.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
                guard !scheme.isEmpty else { return nil }
                scheme.append(Character(Unicode.Scalar(byte)))
            default:
                return nil
            }
            if scheme.utf8.count > 64 { return nil }
        }
        return nil
    }

    /// Links a reader's browser may follow.
    static func isWebLink(_ uri: String) -> Bool {
        let scheme = uriScheme(uri)
        return scheme == "http" || scheme == "https"
    }

    /// A slug is one token: no whitespace or control characters, and of ASCII only letters,
    /// digits, `-`, `_` and `.` (`militärövning` is a slug; `a/b` and `a b` are not). The spec's
    /// pattern says the same.
    static func isSlugScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let byte = UInt8(scalar.value)
            return ASCII.isAlphanumeric(byte) || byte == 0x2D || byte == 0x2E || byte == 0x5F
        }
        return !ControlCharacters.isControl(scalar) && !scalar.properties.isWhitespace
    }

    /// An agency's slugline as a slug: `KAZAKHSTAN-PROTESTS/ALMATY` → `KAZAKHSTAN-PROTESTS-ALMATY`
    /// (separators become the '-' a slug allows).
    static func slug(fromSlugline slugline: String) -> String {
        let scalars = slugline.unicodeScalars.prefix(Limits.slug).map { isSlugScalar($0) ? $0 : "-" }
        return String(String.UnicodeScalarView(scalars))
    }

    static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }

    static func isLanguageTag(_ text: String) -> Bool {
        guard text.count <= Limits.language else { return false }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.count),
            primary.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return parts.dropFirst().allSatisfy { part in
            (1...8).contains(part.count) && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }
}

/// Collects field errors so that one answer names every problem, not just the first.
struct Validator {
    private(set) var errors: [WiredeskError.FieldError] = []

    /// Enough to fix a document by; a megabyte of bad copy must not make a megabyte of errors.
    static let maximumErrors = 50

    mutating func fail(_ field: String, _ message: String) {
        if errors.count < Self.maximumErrors { errors.append(.init(field: field, message: message)) }
    }

    /// Single-line text: no line breaks or control characters.
    /// (The field's name is made only when it is at fault: a body has thousands of blocks.)
    mutating func line(_ value: String?, _ field: @autoclosure () -> String, max: Int) {
        check(value, field, max: max, allowNewlines: false)
    }

    /// Running text: line breaks and tabs allowed, other control characters not.
    mutating func text(_ value: String?, _ field: @autoclosure () -> String, max: Int) {
        check(value, field, max: max, allowNewlines: true)
    }

    /// An absolute URI that is not one a browser would run or read locally.
    mutating func link(_ uri: String?, _ field: String) {
        guard let uri else { return }
        line(uri, field, max: Limits.uri)
        if let scheme = StoryContent.uriScheme(uri) {
            if StoryContent.refusedSchemes.contains(scheme) {
                fail(field, "\(scheme): URIs are not allowed (use http, https, or an identifier such as tag: or urn:)")
            }
        } else {
            fail(field, "expected an absolute URI")
        }
    }

    mutating func count<T>(_ items: [T], _ field: String, max: Int) {
        if items.count > max { fail(field, "at most \(max) items (got \(items.count))") }
    }

    private mutating func check(_ value: String?, _ field: () -> String, max: Int, allowNewlines: Bool) {
        guard let value else { return }
        // Scalar by scalar, as the spec's pattern reads it (a space with an accent on it is text).
        if value.unicodeScalars.allSatisfy(HTMLText.isWhitespace) {
            fail(field(), "must not be empty (leave the field out instead)")
            return
        }
        // UTF-8 is never shorter than its scalars: only a long string needs counting.
        let length = value.utf8.count <= max ? value.utf8.count : value.unicodeScalars.count
        if length > max {
            fail(field(), "at most \(max) characters (got \(length))")
        }
        let badScalar = value.unicodeScalars.first { scalar in
            allowNewlines ? ControlCharacters.isNoise(scalar) : ControlCharacters.isControl(scalar)
        }
        if let badScalar {
            var code = String(badScalar.value, radix: 16, uppercase: true)
            while code.count < 4 { code = "0" + code }
            fail(field(), "control character U+\(code) is not allowed")
        }
    }

    func finish() throws {
        if !errors.isEmpty { throw WiredeskError.invalid(errors) }
    }
}
