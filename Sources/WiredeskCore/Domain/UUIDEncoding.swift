import Foundation

/// Foundation writes UUIDs in capitals; Wiredesk's JSON writes them in lower case, as RFC 9562
/// recommends and as they appear in URLs. These overloads are chosen over the generic `encode`
/// for every UUID field of this module's Encodable types, synthesized or written out.
extension KeyedEncodingContainer {
    mutating func encode(_ id: UUID, forKey key: Key) throws {
        try encode(id.uuidString.lowercased(), forKey: key)
    }

    mutating func encodeIfPresent(_ id: UUID?, forKey key: Key) throws {
        try encodeIfPresent(id?.uuidString.lowercased(), forKey: key)
    }

    mutating func encode(_ ids: [UUID], forKey key: Key) throws {
        try encode(ids.map { $0.uuidString.lowercased() }, forKey: key)
    }
}
