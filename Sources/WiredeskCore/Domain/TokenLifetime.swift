/// How long a new API token works before it expires: written `90d`, `12h` or `2w`, at most ten
/// years. A token without a lifetime works until it is revoked.
public enum TokenLifetime {
    public static let maximumDays: Int64 = 3650

    /// A whole number of hours, days or weeks: `12h`, `90d`, `2w`.
    public static func parse(_ text: String) throws -> Duration {
        let bytes = Array(text.utf8)
        let unitSeconds: Int64? =
            switch bytes.last {
            case UInt8(ascii: "h"): 3_600
            case UInt8(ascii: "d"): 86_400
            case UInt8(ascii: "w"): 604_800
            default: nil
            }
        // Nine digits are more than ten years in any unit, and cannot overflow when multiplied.
        guard let unitSeconds, let count = ASCII.number(bytes.dropLast(), maxDigits: 9) else {
            throw WiredeskError.malformed(
                field: "expires", "expected a whole number of hours, days or weeks, such as 12h, 90d or 2w")
        }
        let lifetime = Duration.seconds(count * unitSeconds)
        try check(lifetime)
        return lifetime
    }

    /// A lifetime must be positive and at most `maximumDays`: a token that never expires is made
    /// without one, not with a lifetime of a century.
    public static func check(_ lifetime: Duration) throws {
        guard lifetime > .zero else {
            throw WiredeskError.invalid(field: "expires", "a token's lifetime must be more than zero")
        }
        guard lifetime <= .seconds(maximumDays * 86_400) else {
            throw WiredeskError.invalid(field: "expires", "a token's lifetime is at most \(maximumDays)d (ten years)")
        }
    }
}
