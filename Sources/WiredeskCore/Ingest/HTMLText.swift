import Foundation

/// Agency bodies in HTML (ninjs `text/html`, `application/xhtml+xml`) as paragraphs and
/// crossheads. Only what a story body holds is kept: block boundaries, headings, text; markup and
/// scripts are dropped, entities decoded. And text written into HTML (`escape`).
public enum HTMLText {
    /// Text as HTML element content or a double-quoted attribute value.
    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Read as UTF-8 bytes, once through, with plain indices: `<`, `>`, `&` and `;` are single
    /// bytes, so no character is decoded to be compared, no part of the document is scanned twice,
    /// and a megabyte of tags costs no more than a megabyte of text.
    static func blocks(_ html: String) -> [BodyBlock] {
        let b = Array(html.utf8)
        var blocks: [BodyBlock] = []
        var text: [UInt8] = []
        var isHeading = false
        func flush() {
            if !text.isEmpty {
                let cleaned = collapse(decodeEntities(text))
                if !cleaned.isEmpty { blocks.append(BodyBlock(isHeading ? .crosshead : .paragraph, cleaned)) }
                text.removeAll(keepingCapacity: true)
            }
            isHeading = false
        }
        var i = 0
        while i < b.count {
            guard let open = b[i...].firstIndex(of: UInt8(ascii: "<")) else {
                text.append(contentsOf: b[i...])
                break
            }
            text.append(contentsOf: b[i..<open])
            guard let close = b[(open + 1)...].firstIndex(of: UInt8(ascii: ">")) else {
                text.append(contentsOf: b[open...])
                break
            }
            var j = open + 1
            let closing = j < close && b[j] == UInt8(ascii: "/")
            while j < close, b[j] == UInt8(ascii: "/") { j += 1 }
            var name = TagName()
            while j < close, name.count < 10, ASCII.isAlphanumeric(b[j]) {
                name.append(b[j] | 0x20)
                j += 1
            }
            if j < close, ASCII.isAlphanumeric(b[j]) { name = TagName.unknown }
            i = close + 1
            switch tags[name] {
            case .skip?:
                guard !closing else { continue }
                // Its content is not text: skip to the matching end tag. Without one, the rest of
                // the document is its content (as a browser reads it).
                guard let end = endTag(name, in: b, from: i) else {
                    i = b.count
                    break
                }
                i = (b[end...].firstIndex(of: UInt8(ascii: ">")) ?? b.count - 1) + 1
            case .block?:
                flush()
            case .heading?:
                flush()
                isHeading = !closing
            case .lineBreak?:
                text.append(UInt8(ascii: " "))
            case nil:
                break
            }
        }
        flush()
        return blocks
    }

    private enum Tag { case skip, block, heading, lineBreak }

    /// A tag's name, lower-cased, its first ten bytes packed: compared and hashed as two integers.
    private struct TagName: Hashable {
        var head: UInt64 = 0
        var tail: UInt16 = 0
        var count = 0

        init() {}

        /// Longer than any tag this reads.
        static let unknown: TagName = {
            var name = TagName()
            name.count = 11
            return name
        }()

        init(_ text: String) {
            for byte in text.utf8 { append(byte) }
        }

        mutating func append(_ byte: UInt8) {
            if count < 8 { head |= UInt64(byte) << (8 * count) } else { tail |= UInt16(byte) << (8 * (count - 8)) }
            count += 1
        }

        var bytes: [UInt8] {
            (0..<count).map { $0 < 8 ? UInt8(truncatingIfNeeded: head >> (8 * $0)) : UInt8(truncatingIfNeeded: tail >> (8 * ($0 - 8))) }
        }
    }

    private static let tags: [TagName: Tag] = {
        var tags: [TagName: Tag] = [TagName("script"): .skip, TagName("style"): .skip, TagName("br"): .lineBreak]
        for name in [
            "p", "div", "section", "article", "blockquote", "li", "ul", "ol", "body", "header", "footer", "title", "head",
            "html", "table", "tr",
        ] {
            tags[TagName(name)] = .block
        }
        for level in 1...6 { tags[TagName("h\(level)")] = .heading }
        return tags
    }()

    /// Where `</name` (in any case) ends in `b` from `start`, found in one pass.
    private static func endTag(_ name: TagName, in b: [UInt8], from start: Int) -> Int? {
        let needle = [UInt8(ascii: "<"), UInt8(ascii: "/")] + name.bytes
        var i = start
        while let lt = b[i...].firstIndex(of: UInt8(ascii: "<")) {
            var j = lt
            var matched = 0
            while matched < needle.count, j < b.count, b[j] | 0x20 == needle[matched] | 0x20 {
                matched += 1
                j += 1
            }
            if matched == needle.count { return j }
            i = lt + 1
        }
        return nil
    }

    /// Plain text of an HTML fragment, for captions and summaries.
    static func plain(_ html: String) -> String {
        blocks(html).map(\.text).joined(separator: " ")
    }

    /// Runs of whitespace as one space, none at the ends. Written into bytes: appending scalars
    /// to a string one by one costs more than reading them.
    static func collapse(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var space = false
        for scalar in text.unicodeScalars {
            if isWhitespace(scalar) {
                space = !out.isEmpty
                continue
            }
            if space { out.append(UInt8(ascii: " ")) }
            space = false
            if scalar.isASCII {
                out.append(UInt8(scalar.value))
            } else {
                out.append(contentsOf: scalar.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == " " || (scalar.value >= 0x09 && scalar.value <= 0x0D) }
        return scalar.properties.isWhitespace
    }

    /// `&amp;`, `&#8217;`, `&#x2019;` and the named references agencies use, decoded; anything else
    /// that starts with `&` is kept as it is.
    static func decodeEntities(_ bytes: [UInt8]) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                i += 1
                continue
            }
            // A reference is short: its `;` comes within twelve bytes.
            let window = bytes[(i + 1)..<min(bytes.count, i + 13)]
            if let semi = window.firstIndex(of: UInt8(ascii: ";")),
                let scalar = entity(String(decoding: bytes[(i + 1)..<semi], as: UTF8.self))
            {
                out.append(contentsOf: scalar.utf8)
                i = semi + 1
            } else {
                out.append(byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func entity(_ name: String) -> Unicode.Scalar? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        case "nbsp": return "\u{00A0}"
        case "ndash": return "\u{2013}"
        case "mdash": return "\u{2014}"
        case "lsquo": return "\u{2018}"
        case "rsquo": return "\u{2019}"
        case "ldquo": return "\u{201C}"
        case "rdquo": return "\u{201D}"
        case "hellip": return "\u{2026}"
        default:
            if name.hasPrefix("#x") || name.hasPrefix("#X") { return numericReference(name.dropFirst(2), radix: 16) }
            if name.hasPrefix("#") { return numericReference(name.dropFirst(), radix: 10) }
            return nil
        }
    }

    /// `&#146;` as the HTML standard reads it: C1 codes as Windows-1252 (old systems wrote it for
    /// ’), and NUL, surrogates, other control codes and numbers past Unicode as U+FFFD.
    private static func numericReference(_ digits: Substring, radix: Int) -> Unicode.Scalar? {
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && (radix == 16 ? $0.isHexDigit : $0.isNumber) }) else {
            return nil
        }
        guard let value = UInt32(digits, radix: radix), let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        guard ControlCharacters.isNoise(scalar) else { return scalar }
        return ControlCharacters.windows1252[value] ?? "\u{FFFD}"
    }
}
