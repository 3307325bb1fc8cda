import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
public import WiredeskCore

/// How the server delivers webhooks.
public struct WebhookSettings: Sendable {
    /// Whether this server takes part in delivering (one server at a time delivers).
    public var enabled: Bool
    public var retry: WebhookRetry
    /// How long a receiver has to answer one delivery.
    public var timeout: Duration
    /// How often a server that is not delivering checks whether the one that is has gone.
    public var standby: Duration

    public init(
        enabled: Bool = true, retry: WebhookRetry = WebhookRetry(), timeout: Duration = .seconds(10),
        standby: Duration = .seconds(2)
    ) {
        self.enabled = enabled
        self.retry = retry
        self.timeout = timeout
        self.standby = standby
    }
}

/// Sends the feed to every webhook endpoint (`wiredesk webhook add`): each entry as one POST,
/// signed as Standard Webhooks prescribes, in feed order per endpoint, at least once. An entry
/// counts as delivered when the receiver answers 2xx; anything else is retried after a growing
/// wait, and an endpoint failing for too long is disabled (`WebhookStore.failed`). The
/// `webhook-id` of an entry is its feed cursor, the same on every attempt, so a receiver drops
/// what it has seen.
///
/// It runs in every server, and delivers in one at a time: the one holding a session advisory
/// lock on a connection of its own. The others wait on standby and take over when that session
/// ends (the server stopped or died). What was delivered is recorded only if the endpoint is
/// still where the worker found it, so a worker that lost its place stops instead of sending
/// out of order.
public final class WebhookWorker: Service, Sendable {
    private let store: WebhookStore
    private let feed: FeedStore
    private let watcher: FeedWatcher
    private let url: DatabaseURL
    private let settings: WebhookSettings
    private let logger: Logger

    /// Entries read at a time for one endpoint.
    static let batch = 20
    /// The longest the worker sleeps between looks at failing endpoints' retry times.
    static let tick: Duration = .milliseconds(100)
    /// A round this often even when the feed has not moved: an endpoint added or enabled by an
    /// operator is due at once.
    static let poll: Duration = .seconds(1)
    /// What makes one worker the deliverer (apart from every other advisory lock).
    static let lock = SessionLock(class: 0x1D4, id: 1)

    public init(
        store: WebhookStore, feed: FeedStore, watcher: FeedWatcher, url: DatabaseURL, settings: WebhookSettings,
        logger: Logger
    ) {
        self.store = store
        self.feed = feed
        self.watcher = watcher
        self.url = url
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .nanoseconds(settings.timeout.nanoseconds)))
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.deliverWhileHolding(client)
                } catch where !Task.isCancelled {
                    self.logger.warning("webhook delivery stopped; trying again", metadata: ["error": "\(error)"])
                } catch {}
                try? await Task.sleep(for: self.settings.standby)
            }
        }
        try? await client.shutdown()
    }

    /// Waits for the delivery lock and delivers for as long as it holds it.
    private func deliverWhileHolding(_ client: HTTPClient) async throws {
        try await Self.lock.whenHeld(at: url, standby: settings.standby, logger: logger) { lock in
            logger.info("delivering webhooks from this server")
            try await deliver(client, holding: lock)
        }
    }

    private func deliver(_ client: HTTPClient, holding lock: SessionLock.Held) async throws {
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in self.watcher.changes() { wake.yield() }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: Self.tick)
                    wake.yield()
                }
            }
            defer { group.cancelAll() }
            var retryAt: ContinuousClock.Instant?
            var lastRound: ContinuousClock.Instant?
            var seen = watcher.head
            for await _ in wakes {
                let moved = watcher.head != seen
                seen = watcher.head
                let now = ContinuousClock.now
                guard moved || retryAt.map({ $0 <= now }) == true || lastRound.map({ now - $0 >= Self.poll }) ?? true
                else { continue }
                try await lock.check(logger: logger)
                lastRound = now
                try await round(client)
                retryAt = try await store.nextRetry(logger: logger).map { .now + $0 }
            }
        }
    }

    /// Delivers to every endpoint that is due and behind the feed, side by side.
    private func round(_ client: HTTPClient) async throws {
        let head = watcher.head
        let targets = try await store.due(logger: logger).filter { target in head.map { target.after < $0 } ?? true }
        await withTaskGroup(of: Void.self) { group in
            for target in targets {
                group.addTask { await self.deliver(to: target, client) }
            }
        }
    }

    /// Sends one endpoint its entries in order until it has them all or one fails.
    private func deliver(to target: WebhookStore.Target, _ client: HTTPClient) async {
        var after = target.after
        do {
            while !Task.isCancelled {
                let page = try await feed.page(after: after, limit: Self.batch, logger: logger)
                if page.entries.isEmpty { return }
                for entry in page.entries {
                    if Task.isCancelled { return }
                    // Sent and recorded in a task of its own, which a shutdown does not cancel: it
                    // waits for the receiver's answer (at most the timeout) and records it, so
                    // that the next deliverer does not send the entry again.
                    let from = after
                    let sent = try await Task { try await self.attempt(entry, to: target, after: from, client) }.value
                    guard sent else { return }
                    after = entry.position
                }
            }
        } catch {
            logger.warning("webhook delivery interrupted", metadata: ["webhook": "\(target.id)", "error": "\(error)"])
        }
    }

    /// Sends the entry after `after` and records the outcome; true when the receiver took it and
    /// the endpoint may be sent the next.
    private func attempt(
        _ entry: FeedStore.Entry, to target: WebhookStore.Target, after: FeedStore.Cursor, _ client: HTTPClient
    ) async throws -> Bool {
        guard let failure = await send(entry, to: target, client) else {
            return try await store.delivered(target.id, after: after, entry: entry.position, logger: logger)
        }
        let state = try await store.failed(target.id, after: after, error: failure, retry: settings.retry, logger: logger)
        logger.notice("webhook delivery failed", metadata: ["webhook": "\(target.id)", "error": "\(failure)"])
        if state == .disabled {
            logger.warning(
                "webhook disabled: it failed for longer than the server allows", metadata: ["webhook": "\(target.id)"])
        }
        return false
    }

    /// POSTs one entry; returns why it failed, or nil when the receiver took it.
    private func send(_ entry: FeedStore.Entry, to target: WebhookStore.Target, _ client: HTTPClient) async -> String? {
        do {
            let body = try Self.payload(entry)
            let timestamp = Int(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: target.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "wiredesk-webhooks")
            request.headers.add(name: "webhook-id", value: entry.position.token)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature",
                value: target.secret.signature(id: entry.position.token, timestamp: timestamp, body: body))
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(
                request, timeout: .nanoseconds(settings.timeout.nanoseconds), logger: logger)
            let answer = try? await response.body.collect(upTo: 4096)
            guard (200..<300).contains(response.status.code) else {
                let text = answer.map { String(buffer: $0) }.map { $0.isEmpty ? "" : ": \($0.prefix(200))" } ?? ""
                return "HTTP \(response.status.code)\(text)"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The body of one delivery, as Standard Webhooks suggests: a type, a time and the data (the
    /// entry's ninjs item, as the feed serves it).
    static func payload(_ entry: FeedStore.Entry) throws -> Data {
        let type =
            switch entry.kind {
            case .publish: "story.published"
            case .correct: "story.corrected"
            case .kill: "story.killed"
            }
        return try JSONCoding.encode(
            JSONValue.object([
                "type": .string(type), "timestamp": .string(JSONCoding.formatDate(entry.at)), "data": entry.item,
            ]))
    }
}
