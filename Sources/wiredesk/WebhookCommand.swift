import ArgumentParser
import Foundation
import WiredeskCore

/// `wiredesk webhook`: the endpoints the feed is POSTed to, and how delivery to each stands.
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Manage the endpoints the feed is sent to (Standard Webhooks, signed with HMAC-SHA256).",
        discussion: """
            `wiredesk serve` delivers each feed entry to every active endpoint, in feed order, at least \
            once, with a stable webhook-id per entry. A failing endpoint is retried with a growing wait \
            (serve --webhook-retry-initial, --webhook-retry-max) and disabled once it has failed for \
            --webhook-give-up-after; `enable` resumes it where it stopped.
            """,
        subcommands: [Add.self, List.self, Status.self, Enable.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an endpoint; prints its id and secret.")
        @Argument(help: "The receiver's http:// or https:// URL.") var url: String
        @Option(help: "The signing secret: whsec_<base64> or 24 to 64 bytes of text (default: a new one, printed once).")
        var secret: String?
        @Flag(help: "Send the whole feed from its first entry, not only what is published from now on.")
        var fromStart = false
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (url, secret, fromStart, actor) = (url, secret, fromStart, actor)
            try await database.run(json: actor.json) { database, logger in
                let (endpoint, key) = try await WebhookStore(database: database).add(
                    url: url, secret: secret, fromStart: fromStart,
                    by: try await actor.principal(UserStore(database: database), logger: logger), logger: logger)
                if actor.json {
                    try Console.printJSON(Added(endpoint: endpoint, secret: key))
                } else {
                    print("added webhook \(endpoint.id) → \(endpoint.url)")
                    print("secret \(key)")
                }
            }
        }

        struct Added: Encodable {
            var endpoint: WebhookStore.Endpoint
            var secret: String
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List endpoints, one line each.")
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let json = json
            try await database.run(json: json) { database, logger in
                try WebhookCommand.show(try await WebhookStore(database: database).list(logger: logger), json: json, as: WebhookCommand.line)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How delivery to an endpoint stands: what is pending, the last success, failures and the last error.")
        @Argument(help: "The endpoint's id (default: every endpoint).") var id: Int64?
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (id, json) = (id, json)
            try await database.run(json: json) { database, logger in
                let store = WebhookStore(database: database)
                if let id {
                    let endpoint = try await store.endpoint(id, logger: logger)
                    return json ? try Console.printJSON(endpoint) : print(WebhookCommand.status(endpoint))
                }
                try WebhookCommand.show(try await store.list(logger: logger), json: json, as: WebhookCommand.status)
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send to a disabled endpoint again, from the entry it stopped at.")
        @Argument var id: Int64
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (id, actor) = (id, actor)
            try await database.run(json: actor.json) { database, logger in
                let endpoint = try await WebhookStore(database: database).enable(
                    id, by: try await actor.principal(UserStore(database: database), logger: logger), logger: logger)
                if actor.json { try Console.printJSON(endpoint) } else { print("enabled webhook \(id)") }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an endpoint; nothing more is sent to it.")
        @Argument var id: Int64
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (id, actor) = (id, actor)
            try await database.run(json: actor.json) { database, logger in
                try await WebhookStore(database: database).remove(
                    id, by: try await actor.principal(UserStore(database: database), logger: logger), logger: logger)
                if actor.json { try Console.printJSON(["removed": id]) } else { print("removed webhook \(id)") }
            }
        }
    }

    /// Every endpoint, as JSON or one `format` each.
    static func show(_ endpoints: [WebhookStore.Endpoint], json: Bool, as format: (WebhookStore.Endpoint) -> String) throws {
        if json { return try Console.printJSON(endpoints) }
        for endpoint in endpoints { print(format(endpoint)) }
        if endpoints.isEmpty { print("no webhooks") }
    }

    static func line(_ endpoint: WebhookStore.Endpoint) -> String {
        "\(String(endpoint.id).padding(toLength: 5, withPad: " ", startingAt: 0)) \(endpoint.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(endpoint.url)"
    }

    static func status(_ endpoint: WebhookStore.Endpoint) -> String {
        func time(_ date: Date?) -> String { date.map(JSONCoding.formatDate) ?? "never" }
        var lines = [
            "webhook \(endpoint.id)  \(endpoint.url)",
            "  state       \(endpoint.state.rawValue)\(endpoint.disabledAt.map { " since \(JSONCoding.formatDate($0))" } ?? "")",
            "  delivered   \(endpoint.delivered) (last \(time(endpoint.lastSuccessAt))), up to \(endpoint.after)",
            "  pending     \(endpoint.pending)",
        ]
        if endpoint.attempts > 0 {
            lines.append("  failing     \(endpoint.attempts) attempts since \(time(endpoint.failingSince)), last \(time(endpoint.lastAttemptAt))")
            if endpoint.state == .active { lines.append("  next try    \(time(endpoint.retryAt))") }
        }
        if let error = endpoint.lastError { lines.append("  last error  \(error)") }
        return lines.joined(separator: "\n")
    }
}
