import ArgumentParser
import Foundation
import Logging
import WiredeskCore

extension IngestFormat: ExpressibleByArgument {}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Take agency items in as drafts: wire text, ninjs, NITF or NewsML-G2 files, or directories of them.",
        discussion: """
            Each file is one item, stored byte for byte beside its story, except a NewsML-G2 newsMessage, \
            whose items each go in (each kept as its own bytes) and are each reported. The same item twice \
            makes nothing new; a newer version of an agency item already in is recorded on its story. A \
            file that cannot be read fails alone, with its reason, and the rest go in (a newsMessage with \
            one bad item fails whole). Exit code 2 when any file failed.
            """)

    @Argument(help: "Files and directories (searched recursively; hidden files skipped).")
    var paths: [String]

    @Option(help: "Force the format instead of detecting it: wire-text, ninjs, nitf or newsml-g2.")
    var format: IngestFormat?

    @Flag(help: "Also make a draft of each of the page's other headlines (teasers).")
    var splitTeasers = false

    @Option(help: "Largest file in bytes; bigger ones fail by name and the rest go in (default: the API's body limit).")
    var maxSize = Int(ProcessInfo.processInfo.environment["WIREDESK_MAX_BODY_BYTES"] ?? "") ?? 1 << 20

    @OptionGroup var actor: StoryActor
    @OptionGroup var database: DatabaseOptions

    struct Summary: Encodable {
        struct Item: Encodable {
            var file: String
            var outcome: IngestOutcome
        }
        struct Failure: Encodable {
            var file: String
            var reason: String
        }
        var created = 0
        var updated = 0
        var duplicates = 0
        var superseded = 0
        var failed = 0
        var items: [Item] = []
        var failures: [Failure] = []
    }

    func run() async throws {
        let (paths, format, splitTeasers, actor, maxSize) = (paths, format, splitTeasers, actor, maxSize)
        guard maxSize > 0 else {
            throw Console.report(WiredeskError.invalid(field: "max-size", "expected a number of bytes"), json: actor.json)
        }
        let summary = try await database.run(json: actor.json) { database, logger in
            let files = try Self.files(in: paths)
            var principal = try await actor.principal(database, logger: logger)
            principal.source = .ingest
            let ingest = IngestService(database: database)
            let progress = Progress(total: files.count)
            var summary = Summary()
            for file in files {
                do {
                    let data = try Self.read(file, maximumBytes: maxSize)
                    let outcomes = try await ingest.ingestAll(
                        data, format: format, fileName: (file as NSString).lastPathComponent,
                        splitTeasers: splitTeasers, by: principal, logger: logger)
                    for outcome in outcomes {
                        switch outcome.status {
                        case .created: summary.created += 1
                        case .updated: summary.updated += 1
                        case .duplicate: summary.duplicates += 1
                        case .superseded: summary.superseded += 1
                        }
                        summary.items.append(.init(file: file, outcome: outcome))
                    }
                } catch let error as WiredeskError
                    where error.kind == .unavailable || (error.kind == .forbidden && error.rule == "ingest.role")
                {
                    throw error  // nothing else will go in either
                } catch {
                    summary.failed += 1
                    summary.failures.append(.init(file: file, reason: (error as? WiredeskError)?.message ?? "\(error)"))
                }
                progress.update(summary)
            }
            progress.finish()
            return summary
        }
        if actor.json {
            try Console.printJSON(summary)
        } else {
            print(
                "created \(summary.created), updated \(summary.updated), duplicates \(summary.duplicates), "
                    + (summary.superseded > 0 ? "superseded \(summary.superseded), " : "") + "failed \(summary.failed)"
            )
            // A file of several items (a newsMessage) shows each item's outcome.
            let files = Dictionary(grouping: summary.items, by: \.file)
            for item in summary.items where (files[item.file]?.count ?? 0) > 1 {
                print("\(item.file): \(item.outcome.status.rawValue) story \(item.outcome.storyId.uuidString.lowercased())")
            }
            for item in summary.items where !item.outcome.warnings.isEmpty {
                print("warning: \(item.file): \(item.outcome.warnings.joined(separator: "; "))")
            }
            for failure in summary.failures {
                Console.printError("failed: \(failure.file): \(failure.reason)")
            }
        }
        if summary.failed > 0 { throw ExitCode(2) }
    }

    /// The file's bytes, refused by size before any is read: an import must not hold a runaway file
    /// in memory.
    static func read(_ file: String, maximumBytes: Int) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw WiredeskError(.notFound, "cannot read the file")
        }
        defer { try? handle.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumBytes else {
            throw WiredeskError(.validation, "\(size) bytes, over the limit of \(maximumBytes) bytes (--max-size)")
        }
        // Read one byte past the limit: a file that grew since it was measured is still refused.
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            throw WiredeskError(.notFound, "cannot read the file")
        }
        guard data.count <= maximumBytes else {
            throw WiredeskError(.validation, "over the limit of \(maximumBytes) bytes (--max-size)")
        }
        return data
    }

    /// Every regular file under the paths, in a stable order.
    static func files(in paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw WiredeskError(.notFound, "no such file or directory: \(path)")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let entries = try FileManager.default.subpathsOfDirectory(atPath: path).sorted()
            for entry in entries where !entry.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                let full = (path as NSString).appendingPathComponent(entry)
                var entryIsDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue {
                    files.append(full)
                }
            }
        }
        return files
    }

    /// A one-line count on a terminal, nothing when stderr is a file or a pipe.
    final class Progress: @unchecked Sendable {
        let total: Int
        let enabled = isatty(2) == 1
        var done = 0

        init(total: Int) { self.total = total }

        func update(_ summary: Summary) {
            done += 1
            guard enabled, done % 10 == 0 || done == total else { return }
            let line =
                "\r[\(done)/\(total)] created \(summary.created), updated \(summary.updated), duplicates \(summary.duplicates), failed \(summary.failed)"
            FileHandle.standardError.write(Data(line.utf8))
        }

        func finish() {
            if enabled && done > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }
}
