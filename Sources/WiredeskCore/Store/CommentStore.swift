import Foundation
import Logging
import PostgresNIO

/// A note the desk leaves on a story for itself (`story_comments`): never part of the copy, the
/// feed or an export; written once, and audited as `comment` with its text (subject `story <id>`).
public struct Comment: Sendable, Equatable {
    public var id: Int64
    public var storyID: UUID
    public var author: String
    public var text: String
    public var createdAt: Date
}

public struct CommentStore: Sendable {
    public let database: Database
    public static let maximumLength = 4000
    /// The most a story's page lists, newest last.
    public static let pageLimit = 200

    public init(database: Database) {
        self.database = database
    }

    public func add(_ text: String, to storyID: UUID, by principal: Principal, logger: Logger) async throws -> Comment {
        try Workflow.checkComment(by: principal)
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw WiredeskError.invalid(field: "text", "a comment needs some text") }
        var v = Validator()
        v.text(text, "text", max: Self.maximumLength)
        try v.finish()
        return try await database.transaction(logger: logger) { connection in
            let rows = try await connection.rows(
                """
                INSERT INTO story_comments (story_id, author, body)
                SELECT id, \(principal.name), \(text) FROM stories WHERE id = \(storyID)
                RETURNING id, created_at
                """,
                logger: logger)
            guard let (id, createdAt) = try rows.first?.decode((Int64, Date).self) else {
                throw WiredeskError.storyNotFound(storyID)
            }
            // The story is named as the subject, not as the event's story: a story's own events are
            // its versions, one each, and a comment changes no version.
            try await AuditLog.record(
                AuditEntry(
                    principal: principal, action: "comment",
                    diff: [FieldChange(field: "comments[\(id)]", from: nil, to: .string(text))],
                    subject: "story \(storyID.uuidString.lowercased())"),
                on: connection, logger: logger)
            return Comment(id: id, storyID: storyID, author: principal.name, text: text, createdAt: createdAt)
        }
    }

    /// The story's latest comments, oldest first.
    public func comments(of storyID: UUID, logger: Logger) async throws -> [Comment] {
        let rows = try await database.rows(
            """
            SELECT id, author, body, created_at FROM (
                SELECT id, author, body, created_at FROM story_comments WHERE story_id = \(storyID)
                ORDER BY id DESC LIMIT \(Self.pageLimit)
            ) latest ORDER BY id
            """,
            logger: logger)
        return try rows.map { row in
            let (id, author, text, createdAt) = try row.decode((Int64, String, String, Date).self)
            return Comment(id: id, storyID: storyID, author: author, text: text, createdAt: createdAt)
        }
    }
}
