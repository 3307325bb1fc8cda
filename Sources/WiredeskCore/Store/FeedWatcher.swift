import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Tells the feed's readers in this process (event streams, the webhook worker) when the
/// released feed has moved on, whichever server wrote the entries.
///
/// A statement that adds entries notifies channel `wiredesk_feed` as it commits (migration 0010);
/// the watcher listens on a connection of its own and then reads where the released feed ends
/// (`FeedStore.head`). An entry is released only once every older transaction has ended, which
/// no notification announces, so after each notification the watcher looks again after 25, 50,
/// 100… ms up to `poll`, and once a `poll` at other times; while the notifications are lost (the
/// database restarting) polling alone carries on.
public final class FeedWatcher: Service, Sendable {
    private let feed: FeedStore
    private let url: DatabaseURL
    private let poll: Duration
    private let logger: Logger

    private struct State {
        var head: FeedStore.Cursor?
        var readers: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextReader: UInt64 = 0
        var stopped = false
        /// When to look next, and the wait after that, since a notification came: its entry may
        /// wait for older transactions to end.
        var eager: (next: ContinuousClock.Instant, step: Duration)?
        var lastLook: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    /// The finest the watcher looks, and its first look again after a notification.
    static let tick: Duration = .milliseconds(25)
    static let channel = "wiredesk_feed"

    /// `url`: where to listen; the pool of `feed` cannot be used, since a LISTEN holds its session.
    public init(feed: FeedStore, url: DatabaseURL, poll: Duration = .seconds(1), logger: Logger) {
        self.feed = feed
        self.url = url
        self.poll = poll
        self.logger = logger
    }

    /// Yields once at once (there may be entries the reader has not seen) and then whenever the
    /// released feed moves on; several moves while the reader is busy are one. Finishes when the
    /// watcher stops (the server is shutting down).
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
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
        continuation.yield()
        return stream
    }

    /// Where the released feed ended when the watcher last looked.
    public var head: FeedStore.Cursor? { state.withLock { $0.head } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            let (looks, look) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.listen(look) }
                group.addTask { await self.ticks(look) }
                for await _ in looks {
                    await self.lookAtHead()
                }
                group.cancelAll()
            }
        }
        stop()
    }

    /// Stops: every reader's changes finish.
    func stop() {
        let readers = state.withLock { state in
            state.stopped = true
            defer { state.readers = [:] }
            return Array(state.readers.values)
        }
        for reader in readers { reader.finish() }
    }

    private func lookAtHead() async {
        state.withLock { $0.lastLook = .now }
        let head: FeedStore.Cursor
        do {
            head = try await feed.head(logger: logger)
        } catch {
            logger.debug("cannot read where the feed ends", metadata: ["error": "\(error)"])
            return
        }
        let readers = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            guard state.head != head else { return [] }
            state.head = head
            return Array(state.readers.values)
        }
        for reader in readers { reader.yield() }
    }

    private func ticks(_ look: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.tick)
            let now = ContinuousClock.now
            let due = state.withLock { state in
                var due = state.lastLook.map { now - $0 >= poll } ?? true
                if let (next, step) = state.eager, now >= next {
                    due = true
                    state.eager = step * 2 > poll ? nil : (now + step * 2, step * 2)
                }
                return due
            }
            if due { look.yield() }
        }
        look.finish()
    }

    /// Listens for notifications on a connection of its own, connecting again after a failure.
    private func listen(_ look: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            var connection: PostgresConnection?
            do {
                let opened = try await url.connect(logger: logger)
                connection = opened
                try await opened.listen(on: Self.channel) { notifications in
                    look.yield()  // entries may have come while nobody listened
                    for try await _ in notifications {
                        state.withLock { $0.eager = (.now + Self.tick, Self.tick) }
                        look.yield()
                    }
                }
            } catch where !Task.isCancelled {
                logger.warning(
                    "feed notifications lost; looking every \(poll) until they are back", metadata: ["error": "\(error)"])
            } catch {}
            try? await connection?.close()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
