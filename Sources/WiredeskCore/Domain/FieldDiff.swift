import Foundation

/// One changed field: `from` is absent for an added field, `to` for a removed one.
public struct FieldChange: Codable, Equatable, Sendable {
    public var field: String
    public var from: JSONValue?
    public var to: JSONValue?

    public init(field: String, from: JSONValue?, to: JSONValue?) {
        self.field = field
        self.from = from
        self.to = to
    }
}

public enum FieldDiff {
    /// Field-level differences between two JSON documents. Objects are compared key by key and
    /// equal-length arrays item by item, so an edited paragraph shows as `body[3].text`; an array
    /// whose length changed shows whole, as an editor would describe it ("a paragraph was added").
    public static func between(_ old: JSONValue?, _ new: JSONValue?, at path: String = "") -> [FieldChange] {
        if old == new { return [] }
        switch (old, new) {
        case (.object(let a)?, .object(let b)?):
            return Set(a.keys).union(b.keys).sorted().flatMap { key in
                between(a[key], b[key], at: path.isEmpty ? key : "\(path).\(key)")
            }
        case (.array(let a)?, .array(let b)?) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { index, pair in
                between(pair.0, pair.1, at: "\(path)[\(index)]")
            }
        default:
            return [FieldChange(field: path, from: old, to: new)]
        }
    }
}
