import Foundation
import Logging
import PostgresNIO

/// Who has a story open in the desk (`story_presence`): each open page says so every few seconds,
/// and someone not heard from for `window` has left.
public struct PresenceStore: Sendable {
    public let database: Database
    /// Longer than a browser's slowest timer in a background tab (about a minute).
    public static let window: Duration = .seconds(75)

    public init(database: Database) {
        self.database = database
    }

    /// Records that `principal` has the story open and returns who else has, by name.
    public func here(_ storyID: UUID, by principal: Principal, logger: Logger) async throws -> [String] {
        let rows = try await database.rows(
            """
            WITH me AS (
                INSERT INTO story_presence (story_id, user_name) VALUES (\(storyID), \(principal.name))
                ON CONFLICT (story_id, user_name) DO UPDATE SET seen_at = now()
            ), gone AS (
                DELETE FROM story_presence WHERE story_id = \(storyID) AND seen_at < now() - interval '1 hour'
            )
            SELECT user_name FROM story_presence
            WHERE story_id = \(storyID) AND user_name <> \(principal.name)
              AND seen_at > now() - \(Double(Self.window.components.seconds))::float8 * interval '1 second'
            ORDER BY user_name
            """,
            logger: logger)
        return try rows.map { try $0.decode(String.self) }
    }
}
