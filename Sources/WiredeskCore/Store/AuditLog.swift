import Foundation
import Logging
import PostgresNIO

/// One row of the audit trail: who changed what, when, from where, and why.
public struct AuditEvent: Codable, Equatable, Sendable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var actorRole: Role
    public var source: ChangeSource
    public var requestId: String?
    public var storyId: UUID?
    /// `create`, `edit`, a transition name, or `user.add`, `user.disable`, `token.create`, `token.revoke`.
    public var action: String
    public var fromState: StoryState?
    public var toState: StoryState?
    public var version: Int?
    public var diff: [FieldChange]?
    public var reason: String?
    /// The user or token a user/token event is about.
    public var subject: String?
}

/// What a change records; the database adds the id and the time.
struct AuditEntry: Sendable {
    var principal: Principal
    var action: String
    var storyID: UUID? = nil
    var fromState: StoryState? = nil
    var toState: StoryState? = nil
    var version: Int? = nil
    var diff: [FieldChange]? = nil
    var reason: String? = nil
    var subject: String? = nil
}

/// The append-only audit trail (`audit_events`). Rows are written inside the transaction of the
/// change they describe, so a change and its event commit or vanish together; the database itself
/// refuses UPDATE, DELETE and TRUNCATE on the table (migration 0001).
public enum AuditLog {
    static func append(_ entry: AuditEntry, on connection: PostgresConnection, logger: Logger) async throws {
        let diff = try entry.diff.map { String(decoding: try JSONCoding.encode($0), as: UTF8.self) }
        try await connection.query(
            """
            INSERT INTO audit_events
                (actor, actor_role, source, request_id, story_id, action, from_state, to_state, version, diff, reason, subject)
            VALUES (\(entry.principal.name), \(entry.principal.role.rawValue), \(entry.principal.source.rawValue),
                    \(entry.principal.requestID), \(entry.storyID), \(entry.action), \(entry.fromState?.rawValue),
                    \(entry.toState?.rawValue), \(entry.version), \(diff)::jsonb, \(entry.reason), \(entry.subject))
            """,
            logger: logger)
    }

    /// A story's events, newest first; `before` is the id of the last event of the previous page.
    public static func history(
        of storyID: UUID, before: Int64? = nil, limit: Int = 100, database: Database, logger: Logger
    ) async throws -> [AuditEvent] {
        let rows = try await database.rows(
            """
            SELECT \(unescaped: columns) FROM audit_events
            WHERE story_id = \(storyID) AND id < \(before ?? Int64.max)
            ORDER BY id DESC LIMIT \(limit)
            """,
            logger: logger)
        return try rows.map(decode)
    }

    /// Every event in order, optionally only those about users and tokens.
    public static func events(
        after: Int64 = 0, limit: Int = 1000, database: Database, logger: Logger
    ) async throws -> [AuditEvent] {
        let rows = try await database.rows(
            "SELECT \(unescaped: columns) FROM audit_events WHERE id > \(after) ORDER BY id LIMIT \(limit)",
            logger: logger)
        return try rows.map(decode)
    }

    private static let columns =
        "id, at, actor, actor_role, source, request_id, story_id, action, from_state, to_state, version, diff::text, reason, subject"

    private static func decode(_ row: PostgresRow) throws -> AuditEvent {
        let (id, at, actor, role, source, requestID, storyID, action, from, to, version, diff, reason, subject) =
            try row.decode(
                (
                    Int64, Date, String, String, String, String?, UUID?, String, String?, String?, Int?, String?,
                    String?, String?
                ).self)
        return AuditEvent(
            id: id, at: at, actor: actor, actorRole: Role(rawValue: role) ?? .auditor,
            source: ChangeSource(rawValue: source) ?? .cli, requestId: requestID, storyId: storyID,
            action: action, fromState: from.flatMap(StoryState.init), toState: to.flatMap(StoryState.init),
            version: version,
            diff: try diff.map { try JSONCoding.decoder(stored: true).decode([FieldChange].self, from: Data($0.utf8)) },
            reason: reason, subject: subject)
    }
}
