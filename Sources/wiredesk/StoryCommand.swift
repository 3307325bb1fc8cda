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

/// The filters of `story list` and `story bulk`, by the names of GET /v1/stories' parameters.
struct StoryFilters: ParsableArguments {
    @Option(name: .customLong("q"), help: "Words to find: \"a phrase\", or, -word.") var q: String?
    @Option(help: "A state, or several comma-separated (draft,in_review).") var state: String?
    @Option(help: "A desk, or - for stories on no desk.") var desk: String?
    @Option(help: "A user, or - for stories assigned to no one.") var assignee: String?
    @Option(help: "The agency credit (Reuters), without case.") var source: String?
    @Option(help: "A byline's name, without case.") var byline: String?
    @Option(help: "A keyword, without case.") var keyword: String?
    @Option(help: "A language tag; en also finds en-GB.") var language: String?
    @Option(help: "At least this urgency number (1 is most urgent).") var urgencyMin: String?
    @Option(help: "At most this urgency number.") var urgencyMax: String?
    @Option(help: "Created at or after (RFC 3339).") var createdSince: String?
    @Option(help: "Created before.") var createdUntil: String?
    @Option(help: "Last changed at or after.") var updatedSince: String?
    @Option(help: "Last changed before.") var updatedUntil: String?
    @Option(help: "Published at or after.") var publishedSince: String?
    @Option(help: "Published before.") var publishedUntil: String?
    @Option(help: "true: under an embargo not yet lifted; false: not.") var embargoed: String?
    @Option(help: "true: with a picture lacking a creditline; false: with none.") var uncreditedPictures: String?

    func query(order: String?) throws -> StoryQuery {
        let values: [String: String?] = [
            "q": q, "state": state, "desk": desk, "assignee": assignee, "source": source, "byline": byline,
            "keyword": keyword, "language": language, "urgencyMin": urgencyMin, "urgencyMax": urgencyMax,
            "createdSince": createdSince, "createdUntil": createdUntil, "updatedSince": updatedSince,
            "updatedUntil": updatedUntil, "publishedSince": publishedSince, "publishedUntil": publishedUntil,
            "embargoed": embargoed, "uncreditedPictures": uncreditedPictures, "order": order,
        ]
        return try StoryQuery.parsing { values[$0] ?? nil }
    }
}

struct StoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "story", abstract: "Create, edit, move and read stories.",
        subcommands: [
            Create.self, Edit.self, TransitionCmd.self, Assign.self, Bulk.self, Show.self, List.self, History.self,
            Revisions.self, Diff.self, Export.self, Provenance.self,
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
        static let configuration = CommandConfiguration(
            abstract: "Find stories: full-text search (--q) and filters, a page at a time.",
            discussion: """
                Summaries, newest first, or best match first with --q (a headline hit outranks a body \
                hit), with the words found marked in headline, standfirst and lead. --json prints the \
                page as GET /v1/stories answers it.
                """)
        @OptionGroup var filters: StoryFilters
        @Option(help: "Order: newest, updated, rank or urgent (default: rank with --q, newest without).") var order: String?
        @Flag(help: "Whole stories instead of summaries.") var full = false
        @Option(help: "At most this many (1-500).") var limit = 50
        @Option(help: "Continue after this cursor (printed at the end of a full page).") var cursor: String?
        @Flag(help: "Print PostgreSQL's plan of the query as it ran (EXPLAIN ANALYZE) instead of the page.")
        var explain = false
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (filters, order, full, limit, cursor, explain, actor) = (filters, order, full, limit, cursor, explain, actor)
            try await database.run(json: actor.json) { database, logger in
                let query = try filters.query(order: order)
                let after = try cursor.map { try StoryQuery.Cursor(token: $0, order: query.effectiveOrder) }
                let principal = try await actor.principal(database, logger: logger)
                let search = StorySearch(database: database)
                if explain {
                    return print(
                        try await search.explain(query, after: after, limit: limit, full: full, by: principal, logger: logger))
                }
                let page = try await search.page(query, after: after, limit: limit, full: full, by: principal, logger: logger)
                if actor.json { return print(String(buffer: page.body)) }
                for item in page.items { print(try StoryOutput.summary(json: item)) }
                if let next = page.next { print("more: --cursor \(next.token)") }
            }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a story to a desk, to a person, or both (- clears either).")
        @Argument var id: String
        @Option(help: "The desk (wiredesk desk list), or - for none.") var desk: String?
        @Option(help: "The user to assign it to, or - for no one.") var assignee: String?
        @Option(help: "Why; recorded on the audit event.") var reason: String?
        @Option(name: .customLong("if-version"), help: "The version you read; a stale one is refused.") var ifVersion: Int
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (desk, assignee, reason, ifVersion, actor) = (desk, assignee, reason, ifVersion, actor)
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                let principal = try await actor.principal(database, logger: logger)
                let story = try await StoryStore(database: database).assign(
                    id, Assignment(desk: .init(option: desk), assignee: .init(option: assignee)), reason: reason,
                    ifVersion: ifVersion, by: principal, logger: logger)
                try StoryOutput.story(story, json: actor.json)
            }
        }
    }

    struct Bulk: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply one transition, or one assignment (assign), to many stories.",
            discussion: """
                Name the stories with --ids (ID or ID@VERSION, comma-separated; without a version, the \
                current one is taken under a row lock) or find them with --q and the filters of `story \
                list`. Each story is its own transaction and succeeds or fails on its own rules; every \
                audit event carries the printed bulk id (wiredesk audit log --bulk ID). --dry-run does \
                each story's work and changes nothing. Exits 0 when every story was changed (or would \
                be), 1 when any was refused.
                """)
        @Argument(help: "submit, request_changes, approve, reopen, publish, kill, spike, unspike, or assign.")
        var action: String
        @Option(help: "Stories to change: ID or ID@VERSION, comma-separated.") var ids: String?
        @OptionGroup var filters: StoryFilters
        @Option(name: .customLong("to-desk"), help: "assign: the desk to move them to, or - for none.") var desk: String?
        @Option(name: .customLong("to-assignee"), help: "assign: the user to assign them to, or - for no one.")
        var assignee: String?
        @Option(help: "Why; recorded on every audit event (the note a kill or correction needs).") var reason: String?
        @Flag(help: "Report what would happen; change nothing.") var dryRun = false
        @Option(help: "The most stories to change in one call.") var max = BulkChange.defaultMaximum
        @OptionGroup var actor: StoryActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (action, ids, filters, desk, assignee, reason, dryRun, max, actor) =
                (action, ids, filters, desk, assignee, reason, dryRun, max, actor)
            let refused = try await database.run(json: actor.json) { database, logger -> Bool in
                let change: BulkChange.Action
                if action == "assign" {
                    change = .assign(Assignment(desk: .init(option: desk), assignee: .init(option: assignee)))
                } else {
                    guard let transition = Transition(rawValue: action), transition != .correct else {
                        throw WiredeskError.malformed(
                            field: "action", "expected a transition (but correct, which edits each story) or assign, not \(action)")
                    }
                    guard desk == nil, assignee == nil else {
                        throw WiredeskError.malformed(field: "to-desk", "--to-desk and --to-assignee go with assign")
                    }
                    change = .transition(transition)
                }
                let query = try filters.query(order: nil)
                let selection: BulkChange.Selection
                switch (ids, query == StoryQuery()) {
                case (let ids?, true):
                    selection = .stories(try ids.split(separator: ",").map { try BulkChange.Target(parsing: String($0)) })
                case (nil, false): selection = .query(query)
                default:
                    throw WiredeskError.malformed(field: "ids", "name the stories (--ids) or find them (--q and filters), one of the two")
                }
                guard BulkChange.maximums.contains(max) else {
                    throw WiredeskError.malformed(field: "max", "expected 1 to \(BulkChange.maximums.upperBound)")
                }
                let principal = try await actor.principal(database, logger: logger)
                let report = try await BulkChange(stories: StoryStore(database: database)).apply(
                    change, to: selection, reason: reason, dryRun: dryRun, maximum: max, by: principal, logger: logger)
                if actor.json {
                    try Console.printJSON(report)
                } else {
                    for outcome in report.outcomes { print(StoryOutput.outcome(outcome)) }
                    let refused = report.outcomes.filter { $0.result == .refused || $0.result == .failed }.count
                    print("bulk \(report.bulkId.uuidString.lowercased()): \(report.outcomes.count) stories, \(refused) refused\(dryRun ? " (dry run: nothing changed)" : "")")
                }
                return report.outcomes.contains { $0.result == .refused || $0.result == .failed }
            }
            if refused { throw ExitCode(1) }
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
