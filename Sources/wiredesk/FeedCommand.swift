import ArgumentParser
import Foundation
import Logging
import WiredeskCore

extension WireFeedStore.Kind: ExpressibleByArgument {}

/// `wiredesk feed`: the agency feeds `wiredesk serve` takes copy in from, around the clock.
struct FeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Manage agency feeds: drop folders and HTTP feeds that `serve` ingests from.",
        discussion: """
            A drop folder's files are taken once they have stopped changing for --settle seconds (never \
            while named *.tmp, *.part or .*), then moved to done/, or to failed/ with NAME.reason.txt. An \
            HTTP feed is polled every --interval seconds with If-None-Match/If-Modified-Since; it may \
            serve a NewsML-G2 newsMessage or item, NITF, ninjs, wire text, or a ninjs list of the shape \
            Wiredesk's own GET /v1/feed serves (items + nextCursor), which is followed page by page. \
            Failures wait the interval doubled for each failure in a row, up to --max-backoff. One \
            server at a time works the feeds (serve --no-ingest opts a server out).
            """,
        subcommands: [Add.self, List.self, Status.self, Pause.self, Resume.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a feed; it is worked from now on.")
        @Argument(help: "The feed's name: a-z, 0-9, '.', '_', '-'.") var name: String
        @Option(help: "folder or http.") var kind: WireFeedStore.Kind
        @Option(help: "The drop folder's absolute path, or the feed's http(s) URL.") var location: String
        @Option(name: .customLong("ingest-as"), help: "The user its items are ingested as (role ingest, editor or reporter).")
        var ingestAs: String
        @Option(help: "Read every item as this format instead of telling by the item.") var format: IngestFormat?
        @Option(help: "Seconds between polls of an HTTP feed (and looks at a folder).") var interval: Double = 60
        @Option(help: "Seconds one HTTP request may take.") var timeout: Double = 30
        @Option(help: "The longest wait, in seconds, after failures in a row.") var maxBackoff: Double = 3600
        @Option(help: "Seconds a dropped file must have stopped changing before it is taken.") var settle: Double = 2
        @Flag(
            help: """
                Read the HTTP feed's credentials from the first line of stdin: user:password (Basic) or an \
                Authorization header value such as "Bearer …". They are stored, never shown.
                """)
        var credentialsStdin = false
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            var credentials: String?
            if credentialsStdin {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("--credentials-stdin: stdin had no line to read")
                }
                credentials = line
            }
            let settings = WireFeedStore.Settings(
                kind: kind, location: location, ingestAs: ingestAs, format: format, interval: try Self.seconds(interval, "--interval"),
                timeout: try Self.seconds(timeout, "--timeout"), maxBackoff: try Self.seconds(maxBackoff, "--max-backoff"),
                settle: try Self.seconds(settle, "--settle"), credentials: credentials)
            let (name, actor) = (name, actor)
            try await database.run(json: actor.json) { database, logger in
                let feed = try await WireFeedStore(database: database).add(
                    name, settings, by: try await actor.principal(UserStore(database: database), logger: logger),
                    logger: logger)
                if actor.json { try Console.printJSON(feed) } else { print("added feed \(feed.name) (\(feed.kind.rawValue) \(feed.location))") }
            }
        }

        static func seconds(_ value: Double, _ option: String) throws -> Duration {
            guard value.isFinite, value >= 0, value <= 86_400 else {
                throw ValidationError("\(option) must be a number of seconds from 0 to 86400")
            }
            return .milliseconds(Int64((value * 1000).rounded()))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List feeds, one line each.")
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let json = json
            try await database.run(json: json) { database, logger in
                try FeedCommand.show(try await WireFeedStore(database: database).list(logger: logger), json: json, as: FeedCommand.line)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How a feed stands: its last item, last error, items in the last hour and lag.")
        @Argument(help: "The feed (default: every feed).") var name: String?
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, json) = (name, json)
            try await database.run(json: json) { database, logger in
                let store = WireFeedStore(database: database)
                if let name {
                    let feed = try await store.feed(name, logger: logger)
                    return json ? try Console.printJSON(feed) : print(FeedCommand.status(feed))
                }
                try FeedCommand.show(try await store.list(logger: logger), json: json, as: FeedCommand.status)
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop taking a feed's items in; what waits stays.")
        @Argument var name: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await FeedCommand.change(name, "paused", actor: actor, database: database) {
                try await $0.pause($1, by: $2, logger: $3)
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a paused or failing feed's items in again, now.")
        @Argument var name: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await FeedCommand.change(name, "resumed", actor: actor, database: database) {
                try await $0.resume($1, by: $2, logger: $3)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a feed; its stories and their provenance stay, its folder is left as it is.")
        @Argument var name: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, actor) = (name, actor)
            try await database.run(json: actor.json) { database, logger in
                try await WireFeedStore(database: database).remove(
                    name, by: try await actor.principal(UserStore(database: database), logger: logger), logger: logger)
                if actor.json { try Console.printJSON(["removed": name]) } else { print("removed feed \(name)") }
            }
        }
    }

    /// Pauses or resumes a feed as the acting admin, and says so (or prints the feed, with --json).
    static func change(
        _ name: String, _ done: String, actor: AdminActor, database: DatabaseOptions,
        _ change: @escaping @Sendable (WireFeedStore, String, Principal, Logger) async throws -> WireFeedStore.Feed
    ) async throws {
        try await database.run(json: actor.json) { database, logger in
            let feed = try await change(
                WireFeedStore(database: database), name, try await actor.principal(UserStore(database: database), logger: logger),
                logger)
            if actor.json { try Console.printJSON(feed) } else { print("\(done) feed \(name)") }
        }
    }

    static func show(_ feeds: [WireFeedStore.Feed], json: Bool, as format: (WireFeedStore.Feed) -> String) throws {
        if json { return try Console.printJSON(feeds) }
        for feed in feeds { print(format(feed)) }
        if feeds.isEmpty { print("no feeds") }
    }

    static func line(_ feed: WireFeedStore.Feed) -> String {
        let state = feed.paused ? "paused" : feed.failures > 0 ? "failing" : "active"
        return [
            feed.name.padding(toLength: 16, withPad: " ", startingAt: 0), feed.kind.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0),
            state.padding(toLength: 8, withPad: " ", startingAt: 0), feed.location,
            feed.hasCredentials ? "(with credentials)" : "",
        ].joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    static func status(_ feed: WireFeedStore.Feed) -> String {
        func time(_ date: Date?) -> String { date.map(JSONCoding.formatDate) ?? "never" }
        let state = feed.paused ? "paused" : feed.failures > 0 ? "failing (\(feed.failures) in a row)" : "active"
        var lines = [
            "feed \(feed.name)  \(feed.kind.rawValue) \(feed.location)",
            "  state        \(state), as \(feed.ingestAs)\(feed.format.map { ", read as \($0)" } ?? "")",
            "  last item    \(feed.lastItem ?? "none") at \(time(feed.lastItemAt))",
            "  items        \(feed.itemsLastHour) in the last hour, \(feed.items) in all",
            "  lag          \(feed.lagSeconds.map { String(format: "%.1f s", $0) } ?? "not caught up yet")",
            "  last poll    \(time(feed.lastPolledAt)), next due \(time(feed.dueAt))",
        ]
        if let error = feed.lastError { lines.append("  last error   \(error) at \(time(feed.lastErrorAt)) (\(feed.errors) in all)") }
        return lines.joined(separator: "\n")
    }
}
