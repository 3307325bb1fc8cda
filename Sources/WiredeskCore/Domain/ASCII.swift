/// ASCII byte classes, for reading untrusted text as UTF-8 bytes: nothing is decoded to be
/// compared, and nothing outside ASCII passes for a digit or a letter.
public enum ASCII {
    public static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    /// 0-9 and a-f.
    public static func isLowerHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    public static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    public static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || isLetter(byte)
    }

    /// A visible character (`!` to `~`): what HTTP calls VCHAR.
    public static func isVisible(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E
    }

    /// A character a header value may hold in ASCII: visible ones, space and tab.
    public static func isFieldText(_ byte: UInt8) -> Bool {
        isVisible(byte) || byte == 0x20 || byte == 0x09
    }

    /// A character of an HTTP token (RFC 9110 §5.6.2: tchar), as media types and header names are made of.
    public static func isToken(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }

    /// The number `bytes` write in 1 to `maxDigits` (at most 18) decimal digits and nothing else;
    /// nil otherwise. With `leadingZero: false`, digits starting with 0 are not a number, as the
    /// API's patterns for versions and cursors say.
    public static func number(_ bytes: some Collection<UInt8>, maxDigits: Int, leadingZero: Bool = true) -> Int64? {
        precondition(maxDigits <= 18, "18 digits always fit in an Int64")
        guard (1...maxDigits).contains(bytes.count), bytes.allSatisfy(isDigit),
            leadingZero || bytes.first != UInt8(ascii: "0")
        else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int64($1 - 0x30) }
    }
}
