import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization
import WiredeskCore

/// How many feed streams a server keeps open, and how often it speaks on a quiet one.
public struct FeedStreamLimits: Sendable {
    /// Open streams at most, apart from the connection cap: a stream holds its connection for as
    /// long as the client follows, and past this many a new one is answered 503.
    public var maximumStreams: Int
    /// A comment line on a quiet stream this often, so that proxies keep it open and a client
    /// can tell a quiet feed from a dead connection.
    public var heartbeat: Duration

    public init(maximumStreams: Int = 250, heartbeat: Duration = .seconds(15)) {
        self.maximumStreams = maximumStreams
        self.heartbeat = heartbeat
    }
}

/// The streams open now, against their cap (`wiredesk_feed_streams`).
final class FeedStreams: Sendable {
    let limits: FeedStreamLimits
    private let open = Atomic<Int>(0)
    private let gauge = Gauge(label: "wiredesk_feed_streams")

    init(limits: FeedStreamLimits) {
        self.limits = limits
        gauge.record(0)
    }

    /// Takes a place, or returns false at the cap.
    func enter() -> Bool {
        let count = open.add(1, ordering: .relaxed).newValue
        guard count <= limits.maximumStreams else {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        gauge.record(count)
        return true
    }

    func leave() {
        gauge.record(open.subtract(1, ordering: .relaxed).newValue)
    }
}

/// One client's `GET /v1/feed/stream`: Server-Sent Events, one event per feed entry from where
/// the client stands, each with the entry's cursor as its id, so that a client that reconnects
/// with `Last-Event-ID` goes on exactly where it was. New entries go out as the watcher sees the
/// feed move. The stream ends when the server begins to shut down (the client resumes on another
/// server) or the database cannot be read (it resumes here later).
struct FeedStream {
    let feed: FeedStore
    let watcher: FeedWatcher
    let heartbeat: Duration
    let logger: Logger

    /// Entries read at a time while catching up.
    static let batch = 100
    /// What a client waits before it reconnects after the stream ends.
    static let retryMilliseconds = 2_000

    private enum Wake: Sendable { case moved, heartbeat, closing }

    func send(from start: FeedStore.Cursor, to writer: inout any ResponseBodyWriter) async throws {
        let (wakes, wake) = AsyncStream.makeStream(of: Wake.self)
        try await writer.write(ByteBuffer(string: "retry: \(Self.retryMilliseconds)\n\n"))
        var cursor = start
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (watcher, heartbeat) = (self.watcher, self.heartbeat)
                group.addTask {
                    for await _ in watcher.changes() { wake.yield(.moved) }
                    wake.yield(.closing)
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeat)
                        wake.yield(.heartbeat)
                    }
                }
                defer { group.cancelAll() }
                for await event in wakes {
                    switch event {
                    case .closing:
                        return
                    case .heartbeat:
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    case .moved:
                        guard let next = try await catchUp(from: cursor, to: &writer) else { return }
                        cursor = next
                    }
                }
            }
        } onGracefulShutdown: {
            wake.yield(.closing)
        }
        try await writer.finish(nil)
    }

    /// Sends every released entry after `cursor`; returns where the client now stands, or nil
    /// when the feed cannot be read (the stream ends; the client resumes from its last event).
    private func catchUp(from start: FeedStore.Cursor, to writer: inout any ResponseBodyWriter) async throws
        -> FeedStore.Cursor?
    {
        var cursor = start
        while watcher.head.map({ cursor < $0 }) ?? true {
            let page: FeedStore.Page
            do {
                page = try await feed.page(after: cursor, limit: Self.batch, logger: logger)
            } catch {
                logger.warning("ending a feed stream: the feed cannot be read", metadata: ["error": "\(error)"])
                return nil
            }
            guard !page.entries.isEmpty else { break }
            var events = ByteBuffer()
            for entry in page.entries {
                events.writeString("id: \(entry.position.token)\ndata: ")
                events.writeBytes(try JSONCoding.encode(entry.item))
                events.writeString("\n\n")
            }
            try await writer.write(events)
            cursor = page.next
            if page.entries.count < Self.batch { break }
        }
        return cursor
    }
}
