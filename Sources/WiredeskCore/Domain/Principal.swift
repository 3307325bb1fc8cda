import Foundation

public enum Role: String, Codable, CaseIterable, Sendable {
    /// Writes and submits their own drafts.
    case reporter
    /// Reviews, approves, publishes, corrects, kills.
    case editor
    /// A publishing script: may only publish what was approved.
    case publisher
    /// May do everything.
    case admin
    /// Reads everything, changes nothing.
    case auditor
    /// A feed script: takes agency copy in and applies the agency's updates to its own drafts.
    case ingest
    /// A partner system downstream: reads the feed and nothing else.
    case subscriber
}

/// Where a change came from, as recorded in the audit trail.
public enum ChangeSource: String, Codable, Sendable {
    case cli, api, ingest
    /// The web desk (`/desk`), signed in with a password or a token.
    case desk
}

/// Who is acting, in which role, and through which door.
public struct Principal: Sendable, Equatable {
    public var name: String
    public var role: Role
    public var source: ChangeSource
    public var requestID: String?
    /// The bulk change this principal's changes are part of (`BulkChange`): their audit events
    /// carry it, as they carry the request's id.
    public var bulkID: UUID?

    public init(name: String, role: Role, source: ChangeSource, requestID: String? = nil, bulkID: UUID? = nil) {
        self.name = name
        self.role = role
        self.source = source
        self.requestID = requestID
        self.bulkID = bulkID
    }
}
