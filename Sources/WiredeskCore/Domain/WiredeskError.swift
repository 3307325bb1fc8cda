import Foundation

/// Every error a caller can act on. The API turns `kind` into an HTTP status and a problem
/// type; the CLI into an exit code. Anything else is an internal error and is never shown.
public struct WiredeskError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Input is not what the format allows: bad JSON, a wrong type, an unknown field, not a UUID.
        case malformed
        /// Input is well-formed but breaks a rule or a limit (a headline too long, urgency 12).
        case validation
        case notFound = "not-found"
        /// The write named a version that is no longer current.
        case conflict
        /// The acting user's role may not do this.
        case forbidden
        /// The story's state does not allow this.
        case invalidTransition = "invalid-transition"
        /// The story is not ready for this (a headline, a credit, a note is missing).
        case unmetRequirement = "unmet-requirement"
        /// Publishing before the embargo lifts.
        case embargo
        case unauthenticated
        /// Too many attempts (sign-in guesses): try again after `retryAfter` seconds.
        case throttled
        /// The database is unreachable.
        case unavailable
    }

    public struct FieldError: Equatable, Sendable, Codable {
        public var field: String
        public var message: String
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var kind: Kind
    public var message: String
    /// The workflow or permission rule that refused, e.g. `approve.picture-credit`.
    public var rule: String?
    public var fields: [FieldError]
    public var currentVersion: Int?
    /// For `throttled`: seconds until another attempt may be made.
    public var retryAfter: Int?

    public init(
        _ kind: Kind, _ message: String, rule: String? = nil, fields: [FieldError] = [],
        currentVersion: Int? = nil, retryAfter: Int? = nil
    ) {
        self.kind = kind
        self.message = message
        self.rule = rule
        self.fields = fields
        self.currentVersion = currentVersion
        self.retryAfter = retryAfter
    }

    /// The error's name where it is shown to clients (a problem document's type, a bulk outcome):
    /// the kind, and `stale-version` for a write on a version that is no longer current.
    public var problemKind: String {
        kind == .conflict && currentVersion != nil ? "stale-version" : kind.rawValue
    }

    public var description: String {
        var text = message
        if let rule { text += " [rule \(rule)]" }
        return text
    }

    public static func invalid(_ fields: [FieldError]) -> WiredeskError {
        let summary = fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        return WiredeskError(.validation, summary, fields: fields)
    }

    public static func invalid(field: String, _ message: String) -> WiredeskError {
        invalid([FieldError(field: field, message: message)])
    }

    public static func storyNotFound(_ id: UUID) -> WiredeskError {
        WiredeskError(.notFound, "story \(id.uuidString.lowercased()) not found")
    }

    public static func staleVersion(expected: Int, current: Int) -> WiredeskError {
        WiredeskError(
            .conflict, "version \(expected) is stale: the story is at version \(current); reload and retry",
            currentVersion: current)
    }

    public static func malformed(field: String, _ message: String) -> WiredeskError {
        let summary = field.isEmpty ? message : "\(field): \(message)"
        return WiredeskError(.malformed, summary, fields: field.isEmpty ? [] : [FieldError(field: field, message: message)])
    }

    /// Names the field a JSON document got wrong.
    public static func decoding(_ error: DecodingError) -> WiredeskError {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            // An enum outside its cases says so in Swift's words ("Cannot initialize Source from
            // invalid String value fax"); the OpenAPI runtime decodes query parameters with no path.
            if context.debugDescription.hasPrefix("Cannot initialize "),
                let value = context.debugDescription.range(of: " value ").map({ context.debugDescription[$0.upperBound...] })
            {
                return malformed(field: "", "not one of the accepted values: \(value)")
            }
            return malformed(field: "", "malformed JSON")
        case .dataCorrupted(let context):
            // Codable's and the OpenAPI runtime's wording for a key the schema does not have.
            let unknown =
                context.debugDescription == "unknown field"
                || context.debugDescription.hasPrefix("Additional properties")
            return malformed(field: fieldPath(context.codingPath), unknown ? "unknown field" : context.debugDescription)
        case .keyNotFound(let key, let context):
            return malformed(field: fieldPath(context.codingPath + [key]), "required field is missing")
        case .typeMismatch(let type, let context):
            return malformed(field: fieldPath(context.codingPath), "expected \(jsonTypeName(type))")
        case .valueNotFound(let type, let context):
            return malformed(field: fieldPath(context.codingPath), "expected \(jsonTypeName(type)), found null")
        @unknown default:
            return malformed(field: "", "malformed JSON")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
