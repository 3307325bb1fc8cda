import Foundation

/// Agency bodies in HTML (ninjs `text/html`, `application/xhtml+xml`) as paragraphs and
/// crossheads. Only what a story body holds is kept: block boundaries, headings, text; markup and
/// scripts are dropped, entities decoded.
enum HTMLText {
    static func blocks(_ html: String) -> [BodyBlock] {
        var blocks: [BodyBlock] = []
        var text = ""
        var isHeading = false
        func flush() {
            let cleaned = collapse(decodeEntities(text))
            if !cleaned.isEmpty { blocks.append(BodyBlock(isHeading ? .crosshead : .paragraph, cleaned)) }
            text = ""
            isHeading = false
        }
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            text += rest[..<open]
            guard let close = rest[open...].firstIndex(of: ">") else {
                rest = rest[open...]
                break
            }
            let tag = rest[rest.index(after: open)..<close].lowercased()
            let name = tag.drop(while: { $0 == "/" }).prefix(while: { $0.isLetter || $0.isNumber })
            rest = rest[rest.index(after: close)...]
            if name == "script" || name == "style", !tag.hasPrefix("/") {
                // Skip to the matching end tag: its content is not text. Without one, the rest of
                // the document is its content (as a browser reads it), so nothing is scanned twice.
                guard let end = endTag(String(name), in: rest) else {
                    rest = rest[rest.endIndex...]
                    break
                }
                rest = rest[end...]
                if let gt = rest.firstIndex(of: ">") {
                    rest = rest[rest.index(after: gt)...]
                } else {
                    rest = rest[rest.endIndex...]
                }
                continue
            }
            switch name {
            case "p", "div", "section", "article", "blockquote", "li", "ul", "ol", "body", "header", "footer", "title",
                "head", "html", "table", "tr":
                flush()
            case "h1", "h2", "h3", "h4", "h5", "h6":
                flush()
                isHeading = !tag.hasPrefix("/")
            case "br":
                text += " "
            default:
                break
            }
        }
        text += rest
        flush()
        return blocks
    }

    /// Where `</name` (in any case) ends in `text`, found in one pass.
    private static func endTag(_ name: String, in text: Substring) -> Substring.Index? {
        let needle = Array("</\(name)".utf8)
        let bytes = text.utf8
        var i = bytes.startIndex
        while let lt = bytes[i...].firstIndex(of: UInt8(ascii: "<")) {
            var j = lt
            var matched = 0
            while matched < needle.count, j < bytes.endIndex, bytes[j] | 0x20 == needle[matched] | 0x20 {
                matched += 1
                j = bytes.index(after: j)
            }
            if matched == needle.count { return j }
            i = bytes.index(after: lt)
        }
        return nil
    }

    /// Plain text of an HTML fragment, for captions and summaries.
    static func plain(_ html: String) -> String {
        blocks(html).map(\.text).joined(separator: " ")
    }

    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semi = after.prefix(12).firstIndex(of: ";") else {
                out += "&"
                rest = after
                continue
            }
            let name = after[..<semi]
            if let scalar = entity(String(name)) {
                out.unicodeScalars.append(scalar)
                rest = after[after.index(after: semi)...]
            } else {
                out += "&"
                rest = after
            }
        }
        return out + rest
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
