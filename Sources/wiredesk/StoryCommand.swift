import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import WiredeskCore

extension StoryState: ExpressibleByArgument {}
extension Transition: ExpressibleByArgument {}

/// `--as USER` and `--json`, which every story command takes.
struct StoryActor: ParsableArguments {
    @Option(name: .customLong("as"), help: "The user acting; recorded in the audit trail.")
    var user: String

    @Flag(help: "Machine-readable JSON output (errors too, on stderr).")
    var json = false

    func principal(_ database: Database, logger: Logger) async throws -> Principal {
        try await UserStore(database: database).principal(named: user, source: .cli, logger: logger)
    }

    /// The acting user, who must be one who reads the desk's stories (`Workflow.readers`).
    func reader(_ database: Database, logger: Logger) async throws {
        try Workflow.checkRead(by: try await principal(database, logger: logger))
    }
}

struct StoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "story", abstract: "Create, edit, move and read stories.",
        subcommands: [
            Create.self, Edit.self, TransitionCmd.self, Show.self, List.self, History.self, Revisions.self, Diff.self,
            Export.self, Provenance.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a draft from a story document (JSON).")
        @Option(help: "The story document; - reads stdin.") var file: String
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (file, actor) = (file, actor)
            try await database.run(json: actor.json) { database, logger in
                let content = try JSONCoding.decode(StoryContent.self, from: try Console.readJSON(file))
                let principal = try await actor.principal(database, logger: logger)
                let story = try await StoryStore(database: database).create(content, by: principal, logger: logger)
                try StoryOutput.story(story, json: actor.json)
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Edit content with a JSON merge patch (null removes a field).")
        @Argument var id: String
        @Option(help: "The patch; - reads stdin.") var file: String
        @Option(help: "Why; recorded on the edit's audit event.") var reason: String?
        @Option(name: .customLong("if-version"), help: "The version you read; a stale one is refused.") var ifVersion: Int
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (file, reason, ifVersion, actor) = (file, reason, ifVersion, actor)
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                let patch = try JSONCoding.decode(JSONValue.self, from: try Console.readJSON(file))
                let principal = try await actor.principal(database, logger: logger)
                let story = try await StoryStore(database: database).edit(
                    id, patch: patch, reason: reason, ifVersion: ifVersion, by: principal, logger: logger)
                try StoryOutput.story(story, json: actor.json)
            }
        }
    }

    struct TransitionCmd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transition",
            abstract: "Move a story: submit, request_changes, approve, reopen, publish, correct, kill, spike, unspike.")
        @Argument var id: String
        @Argument var transition: Transition
        @Option(help: "Why; required for request_changes and reopen, and the note for correct and kill.") var reason: String?
        @Option(help: "The content patch a correction carries; - reads stdin.") var file: String?
        @Option(name: .customLong("if-version"), help: "The version you read; a stale one is refused.") var ifVersion: Int
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (transition, reason, file, ifVersion, actor) = (transition, reason, file, ifVersion, actor)
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                let patch = try file.map { try JSONCoding.decode(JSONValue.self, from: try Console.readJSON($0)) }
                let principal = try await actor.principal(database, logger: logger)
                let story = try await StoryStore(database: database).transition(
                    id, transition, reason: reason, patch: patch, ifVersion: ifVersion, by: principal, logger: logger)
                try StoryOutput.story(story, json: actor.json)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a story.")
        @Argument var id: String
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let actor = actor
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                try await actor.reader(database, logger: logger)
                try StoryOutput.story(
                    try await StoryStore(database: database).story(id, logger: logger), json: actor.json)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stories, newest first.")
        @Option(help: "Only stories in this state.") var state: StoryState?
        @Option(help: "At most this many (1-500).") var limit = 50
        @Option(help: "Continue after this cursor (printed at the end of a full page).") var cursor: String?
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (state, limit, cursor, actor) = (state, limit, cursor, actor)
            try await database.run(json: actor.json) { database, logger in
                try await actor.reader(database, logger: logger)
                let after = try cursor.map(StoryStore.Cursor.init(token:))
                let page = try await StoryStore(database: database).list(
                    state: state, after: after, limit: limit, logger: logger)
                if actor.json {
                    struct Page: Encodable { var stories: [Story]; var nextCursor: String? }
                    return try Console.printJSON(Page(stories: page.stories, nextCursor: page.next?.token))
                }
                for story in page.stories {
                    print(StoryOutput.summary(story))
                }
                if let next = page.next { print("more: --cursor \(next.token)") }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every change to a story: who, when, what, why.")
        @Argument var id: String
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let actor = actor
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                try await actor.reader(database, logger: logger)
                var events: [AuditEvent] = []
                var before: Int64?
                repeat {
                    let page = try await AuditLog.history(
                        of: id, before: before, limit: 500, database: database, logger: logger)
                    events += page.events
                    before = page.next
                } while before != nil
                events.reverse()
                if actor.json { return try Console.printJSON(events) }
                for event in events { print(StoryOutput.event(event)) }
            }
        }
    }

    struct Revisions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A story's content revisions, or one in full.")
        @Argument var id: String
        @Argument(help: "Show this revision in full.") var number: Int?
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (number, actor) = (number, actor)
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                try await actor.reader(database, logger: logger)
                if let number {
                    let revision = try await WiredeskCore.Revisions.revision(
                        number, of: id, database: database, logger: logger)
                    return try Console.printJSON(revision)
                }
                var revisions: [RevisionSummary] = []
                var after = 0
                while true {
                    let page = try await WiredeskCore.Revisions.summaries(
                        of: id, after: after, limit: 200, database: database, logger: logger)
                    revisions += page.revisions
                    guard let next = page.next else { break }
                    after = next
                }
                if actor.json { return try Console.printJSON(revisions) }
                for r in revisions {
                    let fields = r.changedFields.joined(separator: ", ")
                    print(
                        "r\(r.number)  v\(r.version)  \(JSONCoding.formatDate(r.createdAt))  \(r.createdBy)  \(r.state.rawValue)  changed: \(fields)"
                    )
                }
            }
        }
    }
}

extension StoryCommand {
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What changed from one revision of a story to another (either order).")
        @Argument var id: String
        @Argument(help: "The revision to compare from.") var from: Int
        @Argument(help: "The revision to compare to.") var to: Int
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (from, to, actor) = (from, to, actor)
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                try await actor.reader(database, logger: logger)
                let changes = try await WiredeskCore.Revisions.diff(
                    from, to, of: id, database: database, logger: logger)
                if actor.json {
                    // The API's RevisionDiff.
                    struct RevisionDiff: Encodable { var from: Int; var to: Int; var changes: [FieldChange] }
                    return try Console.printJSON(RevisionDiff(from: from, to: to, changes: changes))
                }
                for change in changes { print(StoryOutput.change(change)) }
            }
        }
    }
}

extension Ninjs.ExportVersion: ExpressibleByArgument {}

extension StoryCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A story as an IPTC ninjs item: ninjs3 (3.1) or ninjs2 (2.2). The editor's note stays in.")
        @Argument var id: String
        @Option(help: "ninjs3 or ninjs2.") var format: Ninjs.ExportVersion = .v3
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (format, actor) = (format, actor)
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                try await actor.reader(database, logger: logger)
                let story = try await StoryStore(database: database).story(id, logger: logger)
                try Console.printJSON(Ninjs.export(story, as: format))
            }
        }
    }

    struct Provenance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The agency items that fed a story; --payload writes one back byte for byte.")
        @Argument var id: String
        @Option(help: "Write this item's payload, exactly as it arrived, to standard output.") var payload: String?
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (payload, actor) = (payload, actor)
            let id = try parseID(id, json: actor.json)
            let itemID = try payload.map { try parseID($0, json: actor.json) }
            try await database.run(json: actor.json) { database, logger in
                try await actor.reader(database, logger: logger)
                let ingest = IngestService(database: database)
                let items = try await ingest.items(of: id, logger: logger)
                if let itemID {
                    guard items.contains(where: { $0.id == itemID }) else {
                        throw WiredeskError(
                            .notFound, "story \(id.uuidString.lowercased()) has no item \(itemID.uuidString.lowercased())")
                    }
                    FileHandle.standardOutput.write(try await ingest.payload(itemID, logger: logger).data)
                    return
                }
                if actor.json { return try Console.printJSON(items) }
                for item in items {
                    let from = [item.fileName, item.agencyUri].compactMap { $0 }.joined(separator: " ")
                    print(
                        "\(item.id.uuidString.lowercased())  \(JSONCoding.formatDate(item.receivedAt))  \(item.format)  \(item.applied ? "applied" : "recorded")  sha256 \(item.sha256.prefix(12))  \(from)"
                    )
                }
            }
        }
    }
}
