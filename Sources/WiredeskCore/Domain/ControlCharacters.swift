/// The control characters no story may hold (the validator refuses them). Agency feeds carry
/// them: ANPA's SOH, STX and ETX, and C1 codes left by Windows-1252 copy read as Latin-1 (where
/// U+0092 was an apostrophe). Ingest puts the Windows-1252 punctuation back, takes the rest out
/// and says how many; the stored payload keeps them, byte for byte.
enum ControlCharacters {
    /// The control characters (general category Cc) are exactly U+0000–U+001F and U+007F–U+009F:
    /// tested by value, as a megabyte of copy is checked scalar by scalar.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F)
    }

    /// An error as an operator's status shows it: one line (line breaks and tabs as spaces), at
    /// most `max` characters.
    static func oneLine(_ text: String, max: Int = 500) -> String {
        String(String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 }).prefix(max))
    }

    /// Tab and line breaks are layout; every other control character is noise.
    static func isNoise(_ scalar: Unicode.Scalar) -> Bool {
        isControl(scalar) && scalar != "\n" && scalar != "\r" && scalar != "\t"
    }

    /// Whether `text` holds noise, from its UTF-8 alone: C0 codes and DEL are single bytes, C1 codes
    /// are 0xC2 followed by 0x80–0x9F.
    static func containsNoise(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 {
                if byte != 0x0A && byte != 0x0D && byte != 0x09 { return true }
            } else if byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) {
                return true
            }
            previous = byte
        }
        return false
    }

    static func removed(from text: String) -> (text: String, count: Int) {
        guard containsNoise(text) else { return (text, 0) }
        var kept = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            if isNoise(scalar) {
                count += 1
                if let punctuation = windows1252[scalar.value] { kept.append(punctuation) }
            } else {
                kept.append(scalar)
            }
        }
        return (String(kept), count)
    }

    /// Every string value in `value`, cleaned (object keys are names, not copy, and stay).
    static func removed(from value: JSONValue) -> (value: JSONValue, count: Int) {
        switch value {
        case .string(let text):
            let (clean, count) = removed(from: text)
            return (.string(clean), count)
        case .array(let items):
            let cleaned = items.map { removed(from: $0) }
            return (.array(cleaned.map(\.value)), cleaned.reduce(0) { $0 + $1.count })
        case .object(let fields):
            let (clean, count) = removed(from: fields)
            return (.object(clean), count)
        case .null, .bool, .number:
            return (value, 0)
        }
    }

    static func removed(from fields: [String: JSONValue]) -> (fields: [String: JSONValue], count: Int) {
        let cleaned = fields.mapValues { removed(from: $0) }
        return (cleaned.mapValues(\.value), cleaned.values.reduce(0) { $0 + $1.count })
    }

    static func warning(_ count: Int) -> String {
        "replaced or removed \(count) control character\(count == 1 ? "" : "s") in the copy"
    }

    /// What Windows-1252 puts at 0x80–0x9F (the five unassigned codes are missing), as the HTML
    /// standard reads numeric references there.
    static let windows1252: [UInt32: Unicode.Scalar] = [
        0x80: "\u{20AC}", 0x82: "\u{201A}", 0x83: "\u{0192}", 0x84: "\u{201E}", 0x85: "\u{2026}", 0x86: "\u{2020}",
        0x87: "\u{2021}", 0x88: "\u{02C6}", 0x89: "\u{2030}", 0x8A: "\u{0160}", 0x8B: "\u{2039}", 0x8C: "\u{0152}",
        0x8E: "\u{017D}", 0x91: "\u{2018}", 0x92: "\u{2019}", 0x93: "\u{201C}", 0x94: "\u{201D}", 0x95: "\u{2022}",
        0x96: "\u{2013}", 0x97: "\u{2014}", 0x98: "\u{02DC}", 0x99: "\u{2122}", 0x9A: "\u{0161}", 0x9B: "\u{203A}",
        0x9C: "\u{0153}", 0x9E: "\u{017E}", 0x9F: "\u{0178}",
    ]
}
