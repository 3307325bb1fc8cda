import AsyncHTTPClient
import Foundation
public import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Synchronization
public import ServiceLifecycle
public import WiredeskCore

/// How the server works its agency feeds.
public struct IngestSettings: Sendable {
    /// Whether this server takes part (one server at a time works the feeds).
    public var enabled: Bool
    /// How often the worker looks for feeds that are due.
    public var tick: Duration
    /// How often a server that is not working the feeds checks whether the one that is has gone.
    public var standby: Duration
    /// Files of one drop folder ingested side by side.
    public var parallelFiles: Int
    /// The most files taken from one folder in one round (the rest wait for the next, at once).
    public var batch: Int
    /// The largest file or HTTP response taken.
    public var maxBytes: Int

    public init(
        enabled: Bool = true, tick: Duration = .milliseconds(250), standby: Duration = .seconds(2), parallelFiles: Int = 4,
        batch: Int = 200, maxBytes: Int = 16 << 20
    ) {
        self.enabled = enabled
        self.tick = tick
        self.standby = standby
        self.parallelFiles = parallelFiles
        self.batch = batch
        self.maxBytes = maxBytes
    }
}

/// Takes agency copy in from every feed (`wiredesk feed add`), around the clock: drop folders
/// and HTTP feeds, each on its own schedule, through the same `IngestService` as a request. A
/// feed that fails (an unreachable URL, a missing folder) backs off and never holds up another;
/// a file that cannot be read goes to `failed/` and never holds up its folder.
///
/// It runs in every server and works in one at a time: the one holding a session advisory lock
/// (the lease), as webhook delivery does. Whatever another server did before is in the tables
/// and the folders, so a new holder goes on from there. An item taken twice (a server died after
/// ingesting a file, before moving it) is a duplicate, by its bytes or its agency version.
public final class IngestWorker: Service, Sendable {
    private let store: WireFeedStore
    private let ingest: IngestService
    private let users: UserStore
    private let url: DatabaseURL
    private let settings: IngestSettings
    private let logger: Logger

    static let lock = SessionLock(class: 0x1D4, id: 2)
    /// How often the per-feed gauges on /metrics are brought up to date.
    static let gaugeInterval: Duration = .seconds(5)

    public init(database: Database, url: DatabaseURL, settings: IngestSettings, logger: Logger) {
        store = WireFeedStore(database: database)
        ingest = IngestService(database: database)
        users = UserStore(database: database)
        self.url = url
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.decompression = .enabled(limit: .size(settings.maxBytes))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Self.lock.whenHeld(at: self.url, standby: self.settings.standby, logger: self.logger) { lock in
                        self.logger.info("working the agency feeds from this server")
                        try await self.work(client, holding: lock)
                    }
                } catch where !Task.isCancelled {
                    self.logger.warning("feed ingest stopped; trying again", metadata: ["error": "\(error)"])
                } catch {}
                try? await Task.sleep(for: self.settings.standby)
            }
        }
        try? await client.shutdown()
    }

    /// Every tick, starts a round of each due feed that is not in one already.
    private func work(_ client: HTTPClient, holding lock: SessionLock.Held) async throws {
        try await withThrowingTaskGroup(of: String?.self) { group in
            var running: Set<String> = []
            var gauges = ContinuousClock.now - Self.gaugeInterval
            group.addTask { nil }
            while let finished = try await group.next() {
                if let name = finished {
                    running.remove(name)
                    continue
                }
                try await lock.check(logger: logger)
                for work in try await store.due(logger: logger) where !running.contains(work.name) {
                    running.insert(work.name)
                    group.addTask {
                        // A round is not cut short: on shutdown it stops taking new items, and
                        // what it did is recorded (a lost position would fetch a page again).
                        let stop = Stop()
                        let round = Task { await self.round(work, client, stop: stop) }
                        await withTaskCancellationHandler {
                            await round.value
                        } onCancel: {
                            stop.now()
                        }
                        return work.name
                    }
                }
                if ContinuousClock.now - gauges >= Self.gaugeInterval {
                    gauges = .now
                    await updateGauges()
                }
                group.addTask {
                    try await Task.sleep(for: self.settings.tick)
                    return nil
                }
            }
        }
    }

    /// One round of one feed, recorded whatever happens.
    /// Tells a round in flight to take no new items.
    final class Stop: Sendable {
        private let flag = Atomic(false)
        func now() { flag.store(true, ordering: .relaxed) }
        var requested: Bool { flag.load(ordering: .relaxed) }
    }

    private func round(_ work: WireFeedStore.Work, _ client: HTTPClient, stop: Stop) async {
        var logger = logger
        logger[metadataKey: "feed"] = "\(work.name)"
        do {
            let principal = try await users.principal(named: work.settings.ingestAs, source: .ingest, logger: logger)
            let round =
                switch work.settings.kind {
                case .folder: try await folderRound(work, as: principal, stop: stop, logger: logger)
                case .http: try await httpRound(work, client, as: principal, stop: stop, logger: logger)
                }
            for error in round.itemErrors { logger.notice("feed item refused", metadata: ["error": "\(error)"]) }
            try await store.succeeded(work.name, round, logger: logger)
        } catch {
            let message = Self.describe(error)
            logger.warning("feed round failed", metadata: ["error": "\(message)"])
            try? await store.failed(work.name, error: message, logger: logger)
        }
    }

    // MARK: Drop folders

    private func folderRound(_ work: WireFeedStore.Work, as principal: Principal, stop: Stop, logger: Logger) async throws
        -> WireFeedStore.Round
    {
        let folder = DropFolder(path: work.settings.location, settle: work.settings.settle, maxBytes: settings.maxBytes)
        let (files, more) = try await Offload.run(.ingest) { [batch = settings.batch] in try folder.ready(limit: batch) }
        var round = WireFeedStore.Round()
        var taken = 0
        // A sliding window of files in flight: the database and the parser work side by side.
        try await withThrowingTaskGroup(of: FileResult.self) { group in
            var next = files.makeIterator()
            for _ in 0..<settings.parallelFiles {
                guard let file = next.next() else { break }
                group.addTask { try await self.take(file, from: folder, work, as: principal, logger: logger) }
            }
            while let result = try await group.next() {
                taken += 1
                round.items += result.items
                if result.items > 0 { round.lastItem = result.name }
                if let error = result.error { round.itemErrors.append("\(result.name): \(error)") }
                if !stop.requested, let file = next.next() {
                    group.addTask { try await self.take(file, from: folder, work, as: principal, logger: logger) }
                }
            }
        }
        let left = more + (files.count - taken)
        round.caughtUp = left == 0
        round.again = left > 0
        return round
    }

    private struct FileResult: Sendable {
        var name: String
        var items = 0
        var error: String?
    }

    /// Ingests one file and moves it aside. A file the ingest refuses goes to `failed/`; any other
    /// failure (the database is away) leaves it where it is, for the next round, and ends this one.
    private func take(
        _ file: DropFolder.File, from folder: DropFolder, _ work: WireFeedStore.Work, as principal: Principal,
        logger: Logger
    ) async throws -> FileResult {
        var result = FileResult(name: file.name)
        do {
            let data = try await Offload.run(.ingest) { try folder.read(file) }
            let outcomes = try await ingest.ingestAll(
                data, format: work.settings.format, fileName: file.name, feed: work.name, by: principal, logger: logger)
            result.items = Self.taken(outcomes)
            try await Offload.run(.ingest) { try folder.done(file) }
        } catch let error as WiredeskError where Self.isTheItemsFault(error) {
            result.error = error.message
            try await Offload.run(.ingest) { try folder.failed(file, reason: error.message) }
        }
        return result
    }

    /// Items that made or changed a story (not duplicates, not superseded versions).
    static func taken(_ outcomes: [IngestOutcome]) -> Int {
        outcomes.filter { [.created, .updated].contains($0.status) }.count
    }

    /// Whether an error is the item's own (it would fail again the same way), not the server's.
    static func isTheItemsFault(_ error: WiredeskError) -> Bool {
        [.malformed, .validation].contains(error.kind)
    }

    // MARK: HTTP feeds

    private func httpRound(
        _ work: WireFeedStore.Work, _ client: HTTPClient, as principal: Principal, stop: Stop, logger: Logger
    ) async throws -> WireFeedStore.Round {
        var round = WireFeedStore.Round()
        var request = HTTPClientRequest(url: Self.pageURL(work.settings.location, after: work.position))
        request.headers.add(name: "User-Agent", value: "wiredesk-ingest")
        request.headers.add(
            name: "Accept",
            value: "application/vnd.iptc.g2.newsmessage+xml, application/xml;q=0.9, application/json;q=0.9, */*;q=0.5")
        if let etag = work.etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let modified = work.lastModified { request.headers.add(name: "If-Modified-Since", value: modified) }
        if let credentials = work.settings.credentials {
            request.headers.add(name: "Authorization", value: Self.authorization(credentials))
        }
        let fetched = try await Self.within(work.settings.timeout) { [request, maxBytes = settings.maxBytes, logger] in
            let response = try await client.execute(
                request, timeout: .nanoseconds(work.settings.timeout.nanoseconds), logger: logger)
            guard response.status != .notModified, (200..<300).contains(response.status.code) else {
                return (response.status, response.headers, Data())
            }
            // The whole answer within the timeout: a feed that trickles its body would hold its rounds up.
            return (response.status, response.headers, Data(buffer: try await response.body.collect(upTo: maxBytes)))
        }
        let (status, headers, body) = fetched
        if status == .notModified {
            (round.etag, round.lastModified) = (work.etag, work.lastModified)
            round.caughtUp = true
            return round
        }
        guard (200..<300).contains(status.code) else {
            throw WiredeskError(.unavailable, "the feed answered HTTP \(status.code)")
        }
        round.etag = headers.first(name: "ETag")
        round.lastModified = headers.first(name: "Last-Modified")
        let mediaType = headers.first(name: "Content-Type")

        if let list = try await Offload.run(.ingest, { try NinjsList(body) }) {
            // Wiredesk's own feed, or one shaped like it: each item on its own, then the next page.
            for (n, item) in list.items.enumerated() {
                do {
                    let outcome = try await ingest.ingest(
                        item, format: .ninjs, mediaType: "application/json", feed: work.name, by: principal, logger: logger)
                    if [.created, .updated].contains(outcome.status) {
                        round.items += 1
                        round.lastItem = outcome.storyId.uuidString.lowercased()
                    }
                } catch let error as WiredeskError where Self.isTheItemsFault(error) {
                    round.itemErrors.append("item \(n + 1) after \(work.position ?? "the start"): \(error.message)")
                }
            }
            round.position = list.next
            round.again = !list.items.isEmpty && list.next != nil && list.next != work.position
            round.caughtUp = !round.again
            // The validators belong to the URL just asked; a moved position asks another.
            if list.next != work.position { (round.etag, round.lastModified) = (nil, nil) }
            return round
        }
        do {
            let outcomes = try await ingest.ingestAll(
                body, format: work.settings.format, mediaType: mediaType, feed: work.name, by: principal, logger: logger)
            round.items += Self.taken(outcomes)
            if let last = outcomes.last(where: { [.created, .updated].contains($0.status) }) {
                round.lastItem = last.storyId.uuidString.lowercased()
            }
        } catch let error as WiredeskError where Self.isTheItemsFault(error) {
            round.itemErrors.append(error.message)
        }
        round.caughtUp = true
        return round
    }

    /// `work`'s result, or `unavailable` once `limit` has passed (and `work` is cancelled).
    static func within<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw WiredeskError(.unavailable, "the feed did not answer in time")
            }
            return value
        }
    }

    /// The feed's URL asking for what comes after `position` (a ninjs list's cursor).
    static func pageURL(_ location: String, after position: String?) -> String {
        guard let position, var parts = URLComponents(string: location) else { return location }
        var query = (parts.queryItems ?? []).filter { $0.name != "after" }
        query.append(URLQueryItem(name: "after", value: position))
        parts.queryItems = query
        return parts.string ?? location
    }

    /// The Authorization header for stored credentials: `user:password` is Basic; anything else
    /// (`Bearer …`) goes as it is.
    static func authorization(_ credentials: String) -> String {
        if !credentials.contains(" "), credentials.contains(":") {
            return "Basic " + Data(credentials.utf8).base64EncodedString()
        }
        return credentials
    }

    /// What an operator reads about a failure: never a URL's query or a credential, only what went wrong.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as WiredeskError: error.message
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            "the feed did not answer in time"
        case let error as HTTPClientError where error == .connectTimeout: "could not connect in time"
        case is NIOTooManyBytesError: "the feed's answer is larger than the server takes"
        case let error as HTTPClientError: "HTTP client: \(error)"
        default: "\(type(of: error)): \(error)"
        }
    }

    // MARK: Metrics

    /// Sets each feed's gauges from its status: the same figures `wiredesk feed status` shows.
    private func updateGauges() async {
        guard let feeds = try? await store.list(logger: logger) else { return }
        for feed in feeds {
            let labels = [("feed", feed.name)]
            Gauge(label: "wiredesk_wire_feed_items_last_hour", dimensions: labels).record(feed.itemsLastHour)
            Gauge(label: "wiredesk_wire_feed_items", dimensions: labels).record(feed.items)
            Gauge(label: "wiredesk_wire_feed_errors", dimensions: labels).record(feed.errors)
            Gauge(label: "wiredesk_wire_feed_failures_in_a_row", dimensions: labels).record(feed.failures)
            Gauge(label: "wiredesk_wire_feed_paused", dimensions: labels).record(feed.paused ? 1 : 0)
            Gauge(label: "wiredesk_wire_feed_lag_seconds", dimensions: labels).record(feed.lagSeconds ?? -1)
            Gauge(label: "wiredesk_wire_feed_last_item_timestamp_seconds", dimensions: labels)
                .record(feed.lastItemAt?.timeIntervalSince1970 ?? 0)
        }
    }
}

/// A page of a ninjs list feed, as Wiredesk's own `GET /v1/feed` serves it: `{"items": [...],
/// "nextCursor": "..."}`. Each item is kept as its own JSON text.
struct NinjsList {
    var items: [Data]
    var next: String?

    /// Nil when the body is not such a list (it is read as an item or a message instead).
    init?(_ body: Data) throws {
        guard body.first(where: { !" \n\r\t".utf8.contains($0) }) == UInt8(ascii: "{"),
            case .object(let object) = try? JSONValue(parsing: body), case .array(let items)? = object["items"]
        else { return nil }
        self.items = try items.map { try JSONCoding.encode($0) }
        if case .string(let next)? = object["nextCursor"] { self.next = next }
    }
}
