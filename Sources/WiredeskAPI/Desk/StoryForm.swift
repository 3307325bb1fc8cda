import Foundation
import WiredeskCore

/// The story page's form: the copy as the text an editor types, and back. Only the fields whose
/// text the editor changed are read back into the story, so a field the form shows in a simpler
/// shape (an embargo to the second, a paragraph trimmed) is never changed by a save that did not
/// touch it. What the text says is then checked by the Core, as an API edit is.
struct StoryForm: Equatable {
    var headline = ""
    var slug = ""
    var standfirst = ""
    var datelinePlace = ""
    var datelineDate = ""
    var source = ""
    var bylines = ""
    var creditline = ""
    var urgency = ""
    var embargo = ""
    var keywords = ""
    var ednote = ""
    var body = ""
    var pictures: [PictureFields] = []

    struct PictureFields: Equatable {
        var caption = ""
        var creditline = ""
        var alt = ""
    }

    init(_ content: StoryContent) {
        headline = content.headline ?? ""
        slug = content.slug ?? ""
        standfirst = content.standfirst ?? ""
        datelinePlace = content.dateline?.place ?? ""
        datelineDate = content.dateline?.date ?? ""
        source = content.source ?? ""
        bylines = content.bylines.map { [$0.name, $0.title].compactMap { $0 }.joined(separator: ", ") }
            .joined(separator: "\n")
        creditline = content.creditline ?? ""
        urgency = content.urgency.map(String.init) ?? ""
        embargo = content.embargo.map(Self.formatEmbargo) ?? ""
        keywords = content.keywords.joined(separator: ", ")
        ednote = content.ednote ?? ""
        body = content.body.map { $0.kind == .crosshead ? "## " + $0.text : $0.text }.joined(separator: "\n\n")
        pictures = content.pictures.map {
            PictureFields(caption: $0.caption ?? "", creditline: $0.creditline ?? "", alt: $0.altText ?? "")
        }
    }

    /// The form as posted over `base` (the story's own form): a field the post lacks is as it was.
    /// Browsers send a textarea's line breaks as CR LF.
    init(_ form: QueryItems, over base: StoryForm) {
        self = base
        func field(_ name: String) -> String? { form[name]?.replacingOccurrences(of: "\r\n", with: "\n") }
        headline = field("headline") ?? base.headline
        slug = field("slug") ?? base.slug
        standfirst = field("standfirst") ?? base.standfirst
        datelinePlace = field("dateline_place") ?? base.datelinePlace
        datelineDate = field("dateline_date") ?? base.datelineDate
        source = field("source") ?? base.source
        bylines = field("bylines") ?? base.bylines
        creditline = field("creditline") ?? base.creditline
        urgency = field("urgency") ?? base.urgency
        embargo = field("embargo") ?? base.embargo
        keywords = field("keywords") ?? base.keywords
        ednote = field("ednote") ?? base.ednote
        body = field("body") ?? base.body
        pictures = base.pictures.enumerated().map { i, old in
            PictureFields(
                caption: field("picture_\(i)_caption") ?? old.caption,
                creditline: field("picture_\(i)_creditline") ?? old.creditline, alt: field("picture_\(i)_alt") ?? old.alt)
        }
    }

    /// `base` with the fields this form changed read back in. Text the form cannot read (an
    /// urgency that is not a number) is refused naming the form's field.
    func applied(to base: StoryContent) throws -> StoryContent {
        let before = StoryForm(base)
        var content = base
        var errors: [WiredeskError.FieldError] = []
        func text(_ value: String) -> String? {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }
        if headline != before.headline { content.headline = text(headline) }
        if slug != before.slug { content.slug = text(slug) }
        if standfirst != before.standfirst { content.standfirst = text(standfirst) }
        if datelinePlace != before.datelinePlace || datelineDate != before.datelineDate {
            if let place = text(datelinePlace) {
                content.dateline = Dateline(place: place, date: text(datelineDate))
            } else {
                content.dateline = nil
                if text(datelineDate) != nil {
                    errors.append(.init(field: "dateline_place", message: "a dateline with a date needs a place"))
                }
            }
        }
        if source != before.source { content.source = text(source) }
        if bylines != before.bylines {
            content.bylines = bylines.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: ",", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let name = parts.first, !name.isEmpty else { return nil }
                return Byline(name: name, title: parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil)
            }
        }
        if creditline != before.creditline { content.creditline = text(creditline) }
        if urgency != before.urgency {
            if let value = text(urgency) {
                if let number = Int(value), (1...9).contains(number) {
                    content.urgency = number
                } else {
                    errors.append(.init(field: "urgency", message: "a number from 1 (most urgent) to 9"))
                }
            } else {
                content.urgency = nil
            }
        }
        if embargo != before.embargo {
            if let value = text(embargo) {
                if let date = Self.parseEmbargo(value) {
                    content.embargo = date
                } else {
                    errors.append(.init(field: "embargo", message: "a date and time in UTC, such as 2026-01-07T09:30"))
                }
            } else {
                content.embargo = nil
            }
        }
        if keywords != before.keywords {
            content.keywords = keywords.split(separator: ",").compactMap { text(String($0)) }
        }
        if ednote != before.ednote { content.ednote = text(ednote) }
        if body != before.body { content.body = Self.blocks(body) }
        for (i, fields) in pictures.enumerated() where i < content.pictures.count && i < before.pictures.count {
            let old = before.pictures[i]
            if fields.caption != old.caption { content.pictures[i].caption = text(fields.caption) }
            if fields.creditline != old.creditline { content.pictures[i].creditline = text(fields.creditline) }
            if fields.alt != old.alt { content.pictures[i].altText = text(fields.alt) }
        }
        if !errors.isEmpty { throw WiredeskError.invalid(errors) }
        return content
    }

    static var texts: [WritableKeyPath<StoryForm, String>] {
        [
        \.headline, \.slug, \.standfirst, \.datelinePlace, \.datelineDate, \.source, \.bylines, \.creditline, \.urgency,
        \.embargo, \.keywords, \.ednote, \.body,
        ]
    }

    /// Three ways, field by field: what this form changed since `base`, over `current`.
    func rebased(from base: StoryForm, onto current: StoryForm) -> StoryForm {
        var result = current
        for path in Self.texts where self[keyPath: path] != base[keyPath: path] { result[keyPath: path] = self[keyPath: path] }
        let pictureTexts: [WritableKeyPath<PictureFields, String>] = [\.caption, \.creditline, \.alt]
        for i in result.pictures.indices where i < pictures.count && i < base.pictures.count {
            for path in pictureTexts where pictures[i][keyPath: path] != base.pictures[i][keyPath: path] {
                result.pictures[i][keyPath: path] = pictures[i][keyPath: path]
            }
        }
        return result
    }

    /// Paragraphs separated by a blank line; a paragraph that starts with `## ` is a crosshead.
    static func blocks(_ text: String) -> [BodyBlock] {
        var blocks: [BodyBlock] = []
        var lines: [Substring] = []
        func flush() {
            let chunk = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            lines = []
            guard !chunk.isEmpty else { return }
            if chunk.hasPrefix("## ") {
                blocks.append(BodyBlock(.crosshead, chunk.dropFirst(3).trimmingCharacters(in: .whitespaces)))
            } else {
                blocks.append(BodyBlock(.paragraph, chunk))
            }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy(\.isWhitespace) { flush() } else { lines.append(line) }
        }
        flush()
        return blocks
    }

    /// A JSON merge patch (RFC 7386) that turns `old` into `new`: each top-level field that differs.
    static func patch(from old: StoryContent, to new: StoryContent) throws -> JSONValue {
        guard case .object(let before) = try JSONValue(encoding: old), case .object(let after) = try JSONValue(encoding: new)
        else { return .object([:]) }
        var patch: [String: JSONValue] = [:]
        for key in Set(before.keys).union(after.keys) where before[key] != after[key] {
            patch[key] = after[key] ?? .null
        }
        return .object(patch)
    }

    /// The form's control for a field the Core named (`pictures[0].creditline`, `body[3].text`).
    static func control(for field: String) -> String {
        if field.hasPrefix("pictures["), let close = field.firstIndex(of: "]") {
            let index = field[field.index(field.startIndex, offsetBy: 9)..<close]
            let rest = field[field.index(after: close)...].drop { $0 == "." }
            let name = rest.prefix { $0.isLetter }
            return "picture_\(index)_" + (name == "altText" ? "alt" : name.isEmpty ? "caption" : String(name))
        }
        if field.hasPrefix("dateline.date") { return "dateline_date" }
        if field.hasPrefix("dateline") { return "dateline_place" }
        return String(field.prefix { $0.isLetter })
    }

    /// An embargo as `datetime-local` shows it, in UTC to the second.
    static func formatEmbargo(_ date: Date) -> String {
        String(JSONCoding.formatDate(date).prefix(19))
    }

    static func parseEmbargo(_ text: String) -> Date? {
        let full = text.count == 16 ? text + ":00" : text
        guard full.count == 19 else { return nil }
        return JSONCoding.parseDate(full + "Z")
    }
}
