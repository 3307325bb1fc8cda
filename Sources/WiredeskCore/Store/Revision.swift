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

/// What one revision changed, without its content: a list of these stays small however long a
/// story's history grows.
public struct RevisionSummary: Encodable, Equatable, Sendable {
    public var storyId: UUID
    public var number: Int
    public var version: Int
    public var state: StoryState
    /// The top-level fields the change touched (`body`, `pictures`…).
    public var changedFields: [String]
    public var createdAt: Date
    public var createdBy: String
}

/// Stored in `revisions`, append-only like the audit trail.
public enum Revisions {
    /// The revision a content change writes, as part of the change's own statement. `story` names
    /// its common table expression, which yields the story row as written (`id`, `version`,
    /// `state`, `content`): the content is not sent twice, and no row is written if the change
    /// wrote none. `diff` is the revision's `[FieldChange]` as JSON.
    static func insert(diff diffText: String, by name: String, from story: String) -> SQL {
        """
            INSERT INTO revisions (story_id, number, version, state, content, diff, created_at, created_by)
            SELECT s.id, (SELECT COALESCE(max(r.number), 0) + 1 FROM revisions r WHERE r.story_id = s.id), s.version,
                   s.state, s.content, \(diffText)::jsonb, now(), \(name)
            FROM \(unescaped: story) s
            """
    }

    public struct Page: Sendable {
        public var revisions: [RevisionSummary]
        /// The number to pass as `after` for the next page.
        public var next: Int?
    }

    public static let pageLimit = 1...200

    /// The story's revisions oldest first, a page at a time, as summaries; `after` is the last
    /// number of the previous page. `notFound` if there is no such story.
    public static func summaries(
        of storyID: UUID, after: Int = 0, limit: Int = 100, database: Database, logger: Logger
    ) async throws -> Page {
        guard pageLimit.contains(limit) else {
            throw WiredeskError.malformed(field: "limit", "expected \(pageLimit.lowerBound) to \(pageLimit.upperBound)")
        }
        guard (0...Int(Int32.max)).contains(after) else {
            throw WiredeskError.malformed(field: "after", "expected a revision number")
        }
        // The story row comes along so that "no such story" and "no more revisions" differ.
        let rows = try await database.rows(
            """
            SELECT r.number, r.version, r.state, r.created_at, r.created_by,
                   ARRAY(SELECT DISTINCT f FROM (SELECT substring(e->>'field' from '^[^.[]+') AS f
                                                 FROM jsonb_array_elements(r.diff) e) fields
                         WHERE f IS NOT NULL ORDER BY f)
            FROM stories s LEFT JOIN LATERAL (
                SELECT * FROM revisions WHERE story_id = s.id AND number > \(after) ORDER BY number LIMIT \(limit + 1)
            ) r ON true
            WHERE s.id = \(storyID)
            ORDER BY r.number
            """,
            logger: logger)
        guard !rows.isEmpty else { throw WiredeskError.storyNotFound(storyID) }
        var summaries: [RevisionSummary] = []
        for row in rows {
            let (number, version, state, createdAt, createdBy, fields) =
                try row.decode((Int?, Int?, String?, Date?, String?, [String]?).self)
            guard let number, let version, let state, let createdAt, let createdBy else { continue }
            summaries.append(
                RevisionSummary(
                    storyId: storyID, number: number, version: version, state: StoryState(rawValue: state) ?? .draft,
                    changedFields: fields ?? [], createdAt: createdAt, createdBy: createdBy))
        }
        var next: Int?
        if summaries.count > limit {
            summaries.removeLast()
            next = summaries.last?.number
        }
        return Page(revisions: summaries, next: next)
    }

    /// Every revision in full, oldest first: for operators and tests, not for clients.
    public static func list(of storyID: UUID, database: Database, logger: Logger) async throws -> [Revision] {
        try await fetch(nil, of: storyID, database: database, logger: logger)
    }

    public static func revision(
        _ number: Int, of storyID: UUID, database: Database, logger: Logger
    ) async throws -> Revision {
        try await fetch([number], of: storyID, database: database, logger: logger)[0]
    }

    /// The story's content as it was at `version`: the last revision written at or before it (a
    /// transition moves the version on without a revision). Nil before the first.
    public static func content(
        asOf version: Int, of storyID: UUID, database: Database, logger: Logger
    ) async throws -> StoryContent? {
        let rows = try await database.rows(
            """
            SELECT content::text FROM revisions WHERE story_id = \(storyID) AND version <= \(version)
            ORDER BY number DESC LIMIT 1
            """,
            logger: logger)
        guard let text = try rows.first?.decode(String.self) else { return nil }
        return try JSONCoding.decoder(stored: true).decode(StoryContent.self, from: Data(text.utf8))
    }

    /// What changed from revision `a` to revision `b` (either order).
    public static func diff(
        _ a: Int, _ b: Int, of storyID: UUID, database: Database, logger: Logger
    ) async throws -> [FieldChange] {
        let both = try await fetch([a, b], of: storyID, database: database, logger: logger)
        let (old, new) = (both[0].content, both[1].content)
        return try await Offload.run { FieldDiff.between(try JSONValue(encoding: old), try JSONValue(encoding: new)) }
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
