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
        /// When to look next, and the wait after that, since a notification came: its entry may
        /// wait for older transactions to end.
        var eager: (next: ContinuousClock.Instant, step: Duration)?
        var lastLook: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let readers = Subscribers<Void>(buffering: .bufferingNewest(1))

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
        readers.stream(startingWith: ())
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
        readers.finish()
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
        let moved = state.withLock { state in
            guard state.head != head else { return false }
            state.head = head
            return true
        }
        if moved { readers.send(()) }
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
