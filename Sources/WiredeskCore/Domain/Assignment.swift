import Foundation

/// Where a story is to sit and who is to have it: each of desk and assignee kept as it is, cleared,
/// or set.
public struct Assignment: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case keep, clear
        case set(String)

        /// A JSON field: absent keeps, `null` clears, a string sets.
        public init(_ field: JSONValue?) throws {
            switch field {
            case nil: self = .keep
            case .null?: self = .clear
            case .string(let name)?: self = .set(name)
            default: throw WiredeskError.malformed(field: "", "expected a name or null")
            }
        }

        /// An option: absent keeps, `-` clears (no desk or user is named so), a name sets.
        public init(option text: String?) {
            switch text {
            case nil: self = .keep
            case "-"?: self = .clear
            case let name?: self = .set(name)
            }
        }

        func applied(to current: String?) -> String? {
            switch self {
            case .keep: current
            case .clear: nil
            case .set(let name): name
            }
        }

        var name: String? {
            if case .set(let name) = self { name } else { nil }
        }
    }

    public var desk: Value
    public var assignee: Value

    public init(desk: Value = .keep, assignee: Value = .keep) {
        self.desk = desk
        self.assignee = assignee
    }

    /// Refused when it would change nothing whatever the story: an assignment names a desk or a person.
    public func checkNotEmpty() throws {
        guard desk != .keep || assignee != .keep else {
            throw WiredeskError.invalid(field: "desk", "name a desk, an assignee or both (null or - to clear)")
        }
    }

    func applied(to story: Story) -> Story {
        var changed = story
        changed.desk = desk.applied(to: story.desk)
        changed.assignee = assignee.applied(to: story.assignee)
        return changed
    }

    /// What the trail records: the fields that changed, from and to.
    static func diff(from before: Story, to after: Story) -> [FieldChange] {
        var changes: [FieldChange] = []
        for (field, old, new) in [("desk", before.desk, after.desk), ("assignee", before.assignee, after.assignee)]
        where old != new {
            changes.append(FieldChange(field: field, from: old.map(JSONValue.string), to: new.map(JSONValue.string)))
        }
        return changes
    }
}
