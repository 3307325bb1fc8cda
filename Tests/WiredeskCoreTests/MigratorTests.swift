import Foundation
import PostgresNIO
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

@Suite struct MigratorTests {
    let logger = TestDatabase.logger

    @Test func appliesEveryMigrationOnceAndReportsStatus() async throws {
        try await TestDatabase.withEmptyDatabase { client, _ in
            let migrator = try Migrator(client: client, directory: TestDatabase.migrationsDirectory)
            #expect(!migrator.migrations.isEmpty)
            let before = try await migrator.status(logger: logger)
            #expect(before.allSatisfy { $0.appliedAt == nil })

            let applied = try await migrator.migrate(logger: logger)
            #expect(applied.map(\.name) == migrator.migrations.map(\.name))
            let again = try await migrator.migrate(logger: logger)
            #expect(again.isEmpty)

            let after = try await migrator.status(logger: logger)
            #expect(after.allSatisfy { $0.appliedAt != nil })
            #expect(try await count(client, "SELECT count(*) FROM schema_migrations") == migrator.migrations.count)
        }
    }

    @Test func concurrentRunsApplyEachMigrationOnce() async throws {
        try await TestDatabase.withEmptyDatabase { _, url in
            let results = try await withThrowingTaskGroup(of: [Migration].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await TestDatabase.withClient(url) { client in
                            try await Migrator(client: client, directory: TestDatabase.migrationsDirectory)
                                .migrate(logger: logger)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let migrations = try Migrator.load(from: TestDatabase.migrationsDirectory)
            #expect(results.filter { !$0.isEmpty }.count == 1)
            #expect(results.flatMap { $0 }.map(\.name) == migrations.map(\.name))
            let recorded = try await TestDatabase.withClient(url) { client in
                try await count(client, "SELECT count(*) FROM schema_migrations")
            }
            #expect(recorded == migrations.count)
        }
    }

    /// A run waits for the one before it however long that takes: the session's lock_timeout
    /// bounds waits for the server's tables, not for another run's migrations.
    @Test func aRunWaitsForAnotherPastTheLockTimeout() async throws {
        try await TestDatabase.withEmptyDatabase { holder, url in
            try await holder.withConnection { connection in
                for try await _ in try await connection.query("SELECT pg_advisory_lock(\(Migrator.lockKey))", logger: logger) {}
                let quick = SessionLimits(statementTimeout: nil, lockTimeout: .milliseconds(100), idleInTransactionTimeout: nil)
                try await withThrowingTaskGroup(of: [Migration].self) { group in
                    group.addTask {
                        try await TestDatabase.withClient(url, maximumConnections: 1, limits: quick) { client in
                            let migrator = try Migrator(client: client, directory: TestDatabase.migrationsDirectory)
                            let applied = try await migrator.migrate(logger: logger)
                            // The connection goes back to the pool with the session's own limit.
                            let timeout = try await client.query("SHOW lock_timeout", logger: logger)
                            for try await value in timeout.decode(String.self) { #expect(value == "100ms") }
                            return applied
                        }
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    try await connection.query("SELECT pg_advisory_unlock(\(Migrator.lockKey))", logger: logger)
                    let applied = try #require(try await group.next())
                    #expect(applied.map(\.name) == (try migrations()).map(\.name))
                }
            }
        }
    }

    private func migrations() throws -> [Migration] {
        try Migrator.load(from: TestDatabase.migrationsDirectory)
    }

    @Test func refusesAMigrationChangedAfterItWasApplied() async throws {
        let directory = try copyOfMigrations()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestDatabase.withEmptyDatabase { client, _ in
            try await Migrator(client: client, directory: directory).migrate(logger: logger)
            let file = directory.appendingPathComponent("0001_init.sql")
            let original = try String(contentsOf: file, encoding: .utf8)
            try (original + "\n-- edited afterwards\n").write(to: file, atomically: true, encoding: .utf8)

            let error = try await #require(throws: WiredeskError.self) {
                try await Migrator(client: client, directory: directory).migrate(logger: logger)
            }
            #expect(error.message.contains("0001_init.sql"))
            #expect(error.message.contains("changed after it was applied"))
            await #expect(throws: WiredeskError.self) {
                try await Migrator(client: client, directory: directory).status(logger: logger)
            }
        }
    }

    @Test func aFailingMigrationLeavesNothingBehindAndNamesItself() async throws {
        let directory = try copyOfMigrations()
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        CREATE TABLE half_done (id int);
        INSERT INTO no_such_table VALUES (1);
        """.write(to: directory.appendingPathComponent("9001_broken.sql"), atomically: true, encoding: .utf8)
        try await TestDatabase.withEmptyDatabase { client, _ in
            let error = try await #require(throws: WiredeskError.self) {
                try await Migrator(client: client, directory: directory).migrate(logger: logger)
            }
            #expect(error.message.contains("9001_broken.sql"))
            #expect(error.message.contains("no_such_table"))
            #expect(try await count(client, "SELECT count(*) FROM schema_migrations WHERE number = 9001") == 0)
            #expect(try await count(client, "SELECT count(*) FROM schema_migrations WHERE number = 1") == 1)
            #expect(try await count(client, "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'") == 0)
        }
    }

    @Test func refusesBadlyNamedFiles() throws {
        let directory = try copyOfMigrations()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(to: directory.appendingPathComponent("2_oops.sql"), atomically: true, encoding: .utf8)
        let error = try #require(throws: WiredeskError.self) { try Migrator.load(from: directory) }
        #expect(error.fields.first?.field == "2_oops.sql")
    }

    private func copyOfMigrations() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "wd-migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: TestDatabase.migrationsDirectory, to: directory)
        return directory
    }

    private func count(_ client: PostgresClient, _ sql: String) async throws -> Int {
        for try await n in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) {
            return n
        }
        return 0
    }
}
