import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Tells the open desk queues in this process when a story changed, whichever server changed it:
/// every committed story change notifies channel `wiredesk_stories` with the story's id, state and
/// version as JSON (migration 0018), and the watcher hands that text to each reader.
public final class StoryWatcher: Service, Sendable {
    private let url: DatabaseURL
    private let logger: Logger

    private struct State {
        var readers: [UInt64: AsyncStream<String>.Continuation] = [:]
        var nextReader: UInt64 = 0
        var stopped = false
    }

    private let state = Mutex(State())
    static let channel = "wiredesk_stories"

    public init(url: DatabaseURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// Each change's JSON, from now until the watcher stops. A reader that falls behind keeps the
    /// latest changes (a queue reloads whole, so the newest one is what matters).
    public func changes() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(16))
        let id = state.withLock { state -> UInt64? in
            guard !state.stopped else { return nil }
            state.nextReader += 1
            state.readers[state.nextReader] = continuation
            return state.nextReader
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.readers.removeValue(forKey: id) }
        }
        return stream
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await Listener.listen(
                on: Self.channel, url: self.url, logger: self.logger, connected: {},
                notified: { payload in
                    for reader in self.state.withLock({ Array($0.readers.values) }) { reader.yield(payload) }
                })
        }
        let readers = state.withLock { state in
            state.stopped = true
            defer { state.readers = [:] }
            return Array(state.readers.values)
        }
        for reader in readers { reader.finish() }
    }
}
