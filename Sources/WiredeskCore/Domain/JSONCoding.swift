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
        let text = text.contains(where: { $0 == "t" || $0 == "z" }) ? text.uppercased() : text
        guard let date = (try? withoutFraction.parse(text)) ?? (try? withFraction.parse(text)), writable.contains(date)
        else { return nil }
        return date
    }

    /// 0001-01-01T00:00:00Z up to the end of 9999, as the formatter's own calendar counts them.
    private static let writable: Range<Date> = {
        let first = try? withoutFraction.parse("0001-01-01T00:00:00Z")
        let last = try? withoutFraction.parse("9999-12-31T23:59:59Z")
        // Up to …59.999: anything later would be written back, rounded, as the year 10000.
        return (first ?? .distantPast)..<(last ?? .distantFuture).addingTimeInterval(0.999)
    }()

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
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "not an RFC 3339 timestamp (e.g. 2026-01-07T09:30:00Z)")
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
