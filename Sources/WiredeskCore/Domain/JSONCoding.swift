import Foundation

/// One JSON dialect for the whole system: RFC 3339 timestamps, camelCase keys as declared.
public enum JSONCoding {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    public static func formatDate(_ date: Date) -> String {
        // The formatter cuts to milliseconds, and a Date holds .999 s as .998999…: half a
        // millisecond more makes the cut a rounding, so what was read is written back.
        withFraction.format(date.addingTimeInterval(0.000_5))
    }

    /// RFC 3339 with or without fractional seconds, any offset, `T` and `Z` in either case; only
    /// instants this server can write back (a four-digit year in UTC).
    public static func parseDate(_ text: String) -> Date? {
        // The formatter rolls a day the month has not (Feb 30) over into the next month.
        guard StoryContent.isCalendarDate(String(text.prefix(10))) else { return nil }
        let text = text.contains(where: { $0 == "t" || $0 == "z" }) ? text.uppercased() : text
        guard let date = (try? withoutFraction.parse(text)) ?? (try? withFraction.parse(text)), writable.contains(date)
        else { return nil }
        return date
    }

    /// Whether `text` has the shape of an RFC 3339 timestamp, as the API's pattern describes it.
    /// A timestamp of that shape may still name a day the calendar has not (Feb 30), or an instant
    /// outside four-digit years in UTC: that is a value to refuse (422), not malformed input (400).
    public static func hasTimestampShape(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func digits(_ range: Range<Int>, max: Int? = nil) -> Int? {
            guard range.upperBound <= b.count, range.allSatisfy({ ASCII.isDigit(b[$0]) }) else { return nil }
            let value = range.reduce(0) { $0 * 10 + Int(b[$1] - 0x30) }
            if let max, value > max { return nil }
            return value
        }
        func byte(_ i: Int, _ allowed: String) -> Bool { i < b.count && allowed.utf8.contains(b[i]) }
        guard b.count >= 20, digits(0..<4) != nil, byte(4, "-"), let month = digits(5..<7, max: 12), month >= 1,
            byte(7, "-"), let day = digits(8..<10, max: 31), day >= 1, byte(10, "Tt"), digits(11..<13, max: 23) != nil,
            byte(13, ":"), digits(14..<16, max: 59) != nil, byte(16, ":"), digits(17..<19, max: 59) != nil
        else { return false }
        var i = 19
        if byte(i, ".") {
            let start = i + 1
            i = start
            while i < b.count, ASCII.isDigit(b[i]) { i += 1 }
            guard (1...9).contains(i - start) else { return false }
        }
        if byte(i, "Zz") { return i + 1 == b.count }
        guard byte(i, "+-"), digits(i + 1..<i + 3, max: 23) != nil, byte(i + 3, ":"),
            digits(i + 4..<i + 6, max: 59) != nil
        else { return false }
        return i + 6 == b.count
    }

    /// 0001-01-01T00:00:00Z up to the end of 9999, as the formatter's own calendar counts them.
    private static let writable: Range<Date> = {
        let first = try? withoutFraction.parse("0001-01-01T00:00:00Z")
        let last = try? withoutFraction.parse("9999-12-31T23:59:59Z")
        // Up to …59.999 and a half: from there on it would be written back, rounded, as the year
        // 10000.
        return (first ?? .distantPast)..<(last ?? .distantFuture).addingTimeInterval(0.999_5)
    }()

    public static let impossibleTimestamp =
        "a time the calendar does not have, or outside the years 0001 to 9999 in UTC"

    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatDate(date))
        }
        return encoder
    }

    /// `stored`: for JSON this server wrote to the database itself, already checked on the way in.
    public static func decoder(stored: Bool = false) -> JSONDecoder {
        let decoder = JSONDecoder()
        if stored { decoder.userInfo[.trustedSource] = true }
        decoder.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard hasTimestampShape(text) else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "not an RFC 3339 timestamp (e.g. 2026-01-07T09:30:00Z)")
            }
            guard let date = parseDate(text) else {
                throw WiredeskError.invalid(field: fieldPath(decoder.codingPath), impossibleTimestamp)
            }
            return date
        }
        return decoder
    }

    /// Decodes a request or file body, turning every decoding failure into a validation error
    /// that names the field at fault.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw WiredeskError.decoding(error)
        }
    }

    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        try encoder(pretty: pretty).encode(value)
    }
}
