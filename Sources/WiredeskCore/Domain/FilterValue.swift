import Foundation

/// Filter values as people type them, in CLI options and query parameters alike: each refused with
/// the filter's name when it is not what the filter takes.
public enum FilterValue {
    /// 1 to `maximum` characters, no control characters: no name, action or id holds one, and
    /// PostgreSQL's text cannot hold NUL.
    public static func text(_ value: String?, _ name: String, maximum: Int = 255) throws -> String? {
        guard let value else { return nil }
        guard (1...maximum).contains(value.unicodeScalars.count) else {
            throw WiredeskError.malformed(field: name, "expected 1 to \(maximum) characters")
        }
        guard !value.unicodeScalars.contains(where: ControlCharacters.isControl) else {
            throw WiredeskError.malformed(field: name, "control characters are not allowed")
        }
        return value
    }

    /// An RFC 3339 time in the years 0001 to 9999 UTC.
    public static func date(_ text: String?, _ name: String) throws -> Date? {
        guard let text else { return nil }
        guard JSONCoding.hasTimestampShape(text) else {
            throw WiredeskError.malformed(field: name, "expected an RFC 3339 time, e.g. 2026-11-01T00:00:00Z")
        }
        // The shape is right, the day or year is not one there is (Feb 30, year 0).
        guard let date = JSONCoding.parseDate(text) else {
            throw WiredeskError.invalid(field: name, "no such time in the years 0001 to 9999 UTC: \(text)")
        }
        return date
    }

    /// A UUID.
    public static func uuid(_ text: String?, _ name: String) throws -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: text) else { throw WiredeskError.malformed(field: name, "not an id") }
        return id
    }

    /// `true` or `false`.
    public static func bool(_ text: String?, _ name: String) throws -> Bool? {
        switch text {
        case nil: nil
        case "true": true
        case "false": false
        case let value?: throw WiredeskError.malformed(field: name, "expected true or false, not \(value)")
        }
    }

    /// A whole number in `range`.
    public static func integer(_ text: String?, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text else { return nil }
        guard let value = ASCII.number(text.utf8, maxDigits: 9).map(Int.init), range.contains(value) else {
            throw WiredeskError.malformed(field: name, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
