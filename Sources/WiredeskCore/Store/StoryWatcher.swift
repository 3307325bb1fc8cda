import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Tells the open desk queues in this process when stories change, whichever server changed them.
///
/// The watcher looks once a `poll` at the stories changed in the last `window` (the
/// `stories_updated` index) and hands each reader the ones it had not seen, as
/// `{"id":…,"state":…,"version":…}`. Looking back a window, not from the last change seen, finds
/// a change whose transaction began before others but committed after them; looking whether or
/// not anyone listens means a reader hears every change committed after it came. No NOTIFY: a
/// notifying commit takes a lock that every other notifying commit in the cluster waits for, and
/// story writes are the hot path. One indexed query a second per server.
public final class StoryWatcher: Service, Sendable {
    private let database: Database
    private let poll: Duration
    private let logger: Logger
    static let window: Duration = .seconds(10)
    /// Changes handed on per look at most: a bulk change of thousands reloads a queue once anyway.
    static let batch = 500

    private let readers = Subscribers<String>(buffering: .bufferingNewest(16))

    public init(database: Database, poll: Duration = .seconds(1), logger: Logger) {
        self.database = database
        self.poll = poll
        self.logger = logger
    }

    /// Each change's JSON, from now until the watcher stops. A reader that falls behind keeps the
    /// latest changes (a queue reloads whole, so the newest one is what matters).
    public func changes() -> AsyncStream<String> {
        readers.stream()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // The (id, version) pairs of the window as last seen. (A reader of the server's first
            // second hears the changes of the ten before it too: one reload more.)
            var seen: Set<String> = []
            while !Task.isCancelled {
                try? await Task.sleep(for: self.poll)
                guard let recent = try? await self.recent() else { continue }
                for change in recent where !seen.contains(change.key) { self.readers.send(change.json) }
                seen = Set(recent.map(\.key))
            }
        }
        readers.finish()
    }

    private func recent() async throws -> [(key: String, json: String)] {
        let rows = try await database.rows(
            """
            SELECT id, version, json_build_object('id', id, 'state', state, 'version', version)::text FROM stories
            WHERE updated_at > now() - \(Double(Self.window.components.seconds))::float8 * interval '1 second'
            ORDER BY updated_at, id LIMIT \(Self.batch)
            """,
            logger: logger)
        return try rows.map { row in
            let (id, version, json) = try row.decode((UUID, Int, String).self)
            return ("\(id)@\(version)", json)
        }
    }
}
