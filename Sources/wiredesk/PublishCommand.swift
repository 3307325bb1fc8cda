import ArgumentParser
import Foundation
import WiredeskCore

/// `wiredesk publish --approved`: what a cron job runs. One line per story (or a JSON array);
/// exits 1 when any story failed, so that cron reports it.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish every approved story whose embargo has passed, each in its own transaction.",
        discussion: """
            Safe to run from cron on several machines at once: no story is published twice. Each \
            story is reported as published, skipped (with the reason) or failed.
            """)

    @Flag(help: "Publish the approved stories (the only batch there is; required, so the command says what it does).")
    var approved = false
    @Option(help: "At most this many stories, oldest approval first (1 to 1000).") var limit = 100
    @Flag(help: "Report what would be published, and publish nothing.") var dryRun = false
    @OptionGroup var actor: StoryActor
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard approved else { throw ValidationError("say what to publish: --approved") }
        guard Publisher.limits.contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
    }

    func run() async throws {
        let (limit, dryRun, actor) = (limit, dryRun, actor)
        let outcomes = try await database.run(json: actor.json) { database, logger in
            let principal = try await actor.principal(database, logger: logger)
            return try await Publisher(stories: StoryStore(database: database)).publishApproved(
                limit: limit, dryRun: dryRun, by: principal, logger: logger)
        }
        if actor.json {
            try Console.printJSON(outcomes)
        } else {
            for outcome in outcomes {
                let version = outcome.version.map { " v\($0)" } ?? ""
                let reason = outcome.reason.map { ": \($0)" } ?? ""
                print("\(outcome.id.uuidString.lowercased())  \(outcome.result.rawValue)\(version)\(reason)")
            }
            if outcomes.isEmpty { print("nothing to publish") }
        }
        if outcomes.contains(where: { $0.result == .failed }) { throw ExitCode(1) }
    }
}
