import ArgumentParser
import Foundation
import Logging
import WiredeskCore

extension ChangeSource: ExpressibleByArgument {}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The whole audit trail: query, export, verify its hash chain.",
        subcommands: [Log.self, Export.self, Verify.self, Anchor.self, Seal.self], defaultSubcommand: Log.self)

    /// The filters `log` and `export` share.
    struct Filters: ParsableArguments {
        @Option(help: "Only events about this story (id).") var story: String?
        @Option(help: "Only events by this user.") var actor: String?
        @Option(help: "Only this action (create, edit, approve, user.disable, token.create, …).") var action: String?
        @Option(help: "Only changes made through cli, api, ingest or desk (the web desk).") var source: ChangeSource?
        @Option(help: "From this time on (RFC 3339, e.g. 2026-11-01T00:00:00Z).") var since: String?
        @Option(help: "Before this time (RFC 3339).") var until: String?
        @Option(help: "Only events of this HTTP request (its X-Request-ID).") var requestId: String?
        @Option(help: "Only events of this bulk change (the bulkId `story bulk` printed).") var bulk: String?

        func query() throws -> AuditQuery {
            try AuditQuery.parsing(
                story: story, actor: actor, action: action, source: source, since: since, until: until,
                requestID: requestId, bulk: bulk)
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Matching events, newest first, page after page (all of them unless --limit).")
        @OptionGroup var filters: Filters
        @Option(help: "At most this many events.") var limit: Int?
        @Option(help: "Continue after this cursor (printed by --json as next).") var cursor: String?
        @Flag(help: "Machine-readable JSON: {events, next}.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (filters, limit, cursor, json) = (filters, limit, cursor, json)
            try await database.run(json: json) { database, logger in
                let query = try filters.query()
                if let limit, limit < 1 { throw WiredeskError.malformed(field: "limit", "expected at least 1") }
                var position = try cursor.map(AuditQuery.Cursor.init(token:))
                var left = limit ?? .max
                var collected: [AuditEvent] = []
                repeat {
                    let page = try await query.page(
                        after: position, limit: min(left, AuditLog.pageLimit.upperBound), database: database,
                        logger: logger)
                    if json { collected += page.events } else { page.events.forEach { print(StoryOutput.event($0)) } }
                    left -= page.events.count
                    position = page.next
                } while position != nil && left > 0
                if json {
                    struct Output: Encodable {
                        var events: [AuditEvent]
                        var next: String?
                    }
                    try Console.printJSON(Output(events: collected, next: position?.token))
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every matching event, oldest first, streamed (flat memory): ndjson or csv.")
        enum Format: String, ExpressibleByArgument { case ndjson, csv }
        @OptionGroup var filters: Filters
        @Option(help: "ndjson (one JSON event per line) or csv (RFC 4180, with a header).") var format: Format = .ndjson
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (filters, format) = (filters, format)
            try await database.run { database, logger in
                let query = try filters.query()
                let out = BufferedOutput()
                if format == .csv { out.write(AuditExport.csvHeader) }
                try await query.export(database: database, logger: logger) { event in
                    out.write(format == .csv ? try AuditExport.csv(event) : try AuditExport.ndjson(event))
                }
                out.flush()
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain from the events; exit 4 naming the first event that breaks it.",
            discussion: """
                Detects an event edited, deleted, inserted or reordered without re-hashing. With \
                --anchor (a head printed by `wiredesk audit anchor` and kept outside the database) \
                it also detects a rewrite of everything up to that head, re-hashed or not, and a \
                tail cut off.
                """)
        @Option(help: "Start at the seal holding this event id, trusting the chain before it.") var since: Int64?
        @Option(help: "POSITION:HASH from `wiredesk audit anchor`.") var anchor: String?
        @Flag(help: "Machine-readable JSON.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (since, anchorText, json) = (since, anchor, json)
            try await database.run(json: json) { database, logger in
                let anchor = try anchorText.map(AuditChain.Head.init(parsing:))
                let report: AuditChain.Report
                do {
                    report = try await AuditChain.verify(since: since, anchor: anchor, database: database, logger: logger)
                } catch let broken as AuditChain.Broken {
                    if json { try Console.printJSON(Outcome(ok: false, broken: broken)) }
                    throw WiredeskError(.conflict, "the audit trail does not match its chain: \(broken.message)")
                }
                if json { return try Console.printJSON(Outcome(ok: true, report: report)) }
                var line = "ok: \(report.verified) events in \(report.seals) seals match the chain"
                if let head = report.head { line += "; head \(head)" }
                if report.anchorMatched == true { line += "; the anchor matches" }
                print(line)
                if report.unsealed > 0 {
                    let oldest = report.oldestUnsealed.map { ", oldest \(JSONCoding.formatDate($0))" } ?? ""
                    print("\(report.unsealed) events not yet sealed\(oldest)")
                }
            }
        }
    }

    /// `verify --json`: `{"ok": true, "report": …}` or `{"ok": false, "broken": …}`.
    struct Outcome: Encodable {
        var ok: Bool
        var report: AuditChain.Report?
        var broken: AuditChain.Broken?
    }

    struct Anchor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal what can be sealed and print the chain's head (POSITION:HASH) to keep outside the database.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.run { database, logger in
                try await AuditChain.seal(database: database, logger: logger)
                guard let head = try await AuditChain.head(database: database, logger: logger) else {
                    throw WiredeskError(.notFound, "the audit trail is empty: nothing to anchor yet")
                }
                print(head)
            }
        }
    }

    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chain the events committed since the last seal (a running server does this every half second).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.run { database, logger in
                let sealed = try await AuditChain.seal(database: database, logger: logger)
                print("sealed \(sealed) events")
            }
        }
    }
}

/// stdout through a buffer: an export of millions of lines is not a write call per line.
final class BufferedOutput: @unchecked Sendable {
    private var buffer = Data()

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        FileHandle.standardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// The export formats.
enum AuditExport {
    static let csvHeader =
        "id,at,actor,actor_role,source,request_id,story_id,action,from_state,to_state,version,reason,subject,diff\r\n"

    static func ndjson(_ event: AuditEvent) throws -> String {
        String(decoding: try JSONCoding.encode(event), as: UTF8.self) + "\n"
    }

    static func csv(_ event: AuditEvent) throws -> String {
        let diff = try event.diff.map { String(decoding: try JSONCoding.encode($0), as: UTF8.self) }
        let fields: [String?] = [
            String(event.id), JSONCoding.formatDate(event.at), event.actor, event.actorRole.rawValue,
            event.source.rawValue, event.requestId, event.storyId?.uuidString.lowercased(), event.action,
            event.fromState?.rawValue, event.toState?.rawValue, event.version.map(String.init), event.reason,
            event.subject, diff,
        ]
        return fields.map { quoted($0 ?? "") }.joined(separator: ",") + "\r\n"
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
