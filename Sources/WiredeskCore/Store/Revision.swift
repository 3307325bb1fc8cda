import Foundation
import Logging
import PostgresNIO

/// A full snapshot of a story's content after one content change, with what that change did.
public struct Revision: Encodable, Equatable, Sendable {
    public var storyId: UUID
    /// 1, 2, 3… per story, one per content change.
    public var number: Int
    /// The story version this content became.
    public var version: Int
    public var state: StoryState
    public var content: StoryContent
    public var diff: [FieldChange]
    public var createdAt: Date
    public var createdBy: String
}

/// Stored in `revisions`, append-only like the audit trail.
public enum Revisions {
    public static func list(of storyID: UUID, database: Database, logger: Logger) async throws -> [Revision] {
        try await fetch(nil, of: storyID, database: database, logger: logger)
    }

    public static func revision(
        _ number: Int, of storyID: UUID, database: Database, logger: Logger
    ) async throws -> Revision {
        try await fetch([number], of: storyID, database: database, logger: logger)[0]
    }

    /// What changed from revision `a` to revision `b` (either order).
    public static func diff(
        _ a: Int, _ b: Int, of storyID: UUID, database: Database, logger: Logger
    ) async throws -> [FieldChange] {
        let both = try await fetch([a, b], of: storyID, database: database, logger: logger)
        let (old, new) = (both[0], both[1])
        return FieldDiff.between(try JSONValue(encoding: old.content), try JSONValue(encoding: new.content))
    }

    /// The story's revisions (all of them for nil), in the order the numbers were asked for;
    /// `notFound` naming the first number the story does not have.
    private static func fetch(
        _ numbers: [Int]?, of storyID: UUID, database: Database, logger: Logger
    ) async throws -> [Revision] {
        let rows = try await database.rows(
            """
            SELECT number, version, state, content::text, diff::text, created_at, created_by
            FROM revisions WHERE story_id = \(storyID) AND (\(numbers)::int8[] IS NULL OR number = ANY(\(numbers)))
            ORDER BY number
            """,
            logger: logger)
        let decoder = JSONCoding.decoder(stored: true)
        let found = try rows.map { row in
            let (number, version, state, content, diff, createdAt, createdBy) =
                try row.decode((Int, Int, String, String, String, Date, String).self)
            return Revision(
                storyId: storyID, number: number, version: version, state: StoryState(rawValue: state) ?? .draft,
                content: try decoder.decode(StoryContent.self, from: Data(content.utf8)),
                diff: try decoder.decode([FieldChange].self, from: Data(diff.utf8)),
                createdAt: createdAt, createdBy: createdBy)
        }
        guard let numbers else { return found }
        return try numbers.map { number in
            guard let revision = found.first(where: { $0.number == number }) else {
                throw WiredeskError(.notFound, "story \(storyID.uuidString.lowercased()) has no revision \(number)")
            }
            return revision
        }
    }
}
