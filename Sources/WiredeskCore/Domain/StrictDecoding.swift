import Foundation

/// A coding key for any string, used to see every key a JSON object actually has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

extension Decoder {
    /// Codable ignores keys it does not know; a newsroom tool must not, or a misspelt
    /// `creditLine` silently drops the photographer's credit.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        // What this server wrote itself (the database) was checked on the way in.
        if userInfo[.trustedSource] as? Bool == true { return }
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath + [key], debugDescription: "unknown field")
            )
        }
    }
}

extension CodingUserInfoKey {
    /// Set on decoders reading what Wiredesk stored itself.
    static let trustedSource = CodingUserInfoKey(rawValue: "wiredesk.trustedSource")!
}

/// `pictures[0].caption` from a coding path.
func fieldPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        if let index = key.intValue {
            out += "[\(index)]"
        } else {
            out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return out
}
