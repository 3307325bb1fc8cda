import ArgumentParser
import Foundation
import Logging
import WiredeskCore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending migrations from migrations/ (or $WIREDESK_MIGRATIONS).",
        discussion: """
            Runs as the owner of the schema: $WIREDESK_MIGRATION_URL, or the private cluster's owner \
            `wiredesk`. Creates the app role ($WIREDESK_APP_ROLE, default wiredesk_app; with the \
            password $WIREDESK_APP_PASSWORD when given) if it is missing, and grants it what the \
            migrations state.
            """)

    @Flag(help: "List applied and pending migrations; change nothing.")
    var status = false

    @Option(help: "The migrations directory.")
    var directory: String?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let directory = self.directory.map { URL(fileURLWithPath: $0) } ?? Migrator.defaultDirectory()
        let status = self.status
        try await database.run(migration: true) { database, logger in
            let migrator = try Migrator(
                client: database.client, directory: directory, environment: ProcessInfo.processInfo.environment)
            if status {
                for entry in try await migrator.status(logger: logger) {
                    let when = entry.appliedAt.map { "applied \(JSONCoding.formatDate($0))" } ?? "pending"
                    print("\(entry.migration.name)  \(when)")
                }
            } else {
                let applied = try await migrator.migrate(logger: logger)
                if applied.isEmpty {
                    print("schema is up to date (\(migrator.migrations.count) migrations applied)")
                }
                for migration in applied {
                    print("applied \(migration.name)")
                }
            }
        }
    }
}
