import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

/// The app role, which the server and the CLI connect as, cannot rewrite history: the database
/// refuses it, whatever the code asks.
@Suite struct PrivilegeTests {
    static let historyTables = ["audit_events", "revisions", "ingest_items", "audit_seals", "feed_entries"]

    /// The SQLSTATE PostgreSQL answered `sql` with, or nil if it ran.
    static func refusal(_ sql: String, _ newsroom: Newsroom) async -> String? {
        do {
            try await newsroom.client.query(PostgresQuery(unsafeSQL: sql), logger: newsroom.logger)
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "\(error.code)"
        } catch {
            return "\(error)"
        }
    }

    @Test func theAppRoleCannotChangeHistoryOrTheTriggersThatGuardIt() async throws {
        try await Newsroom.with { newsroom in
            _ = try await newsroom.story(through: [.submit])
            var statements = [
                "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
                "ALTER TABLE audit_events DISABLE TRIGGER ALL",
                "DROP TRIGGER audit_events_append_only ON audit_events",
                "DROP TRIGGER audit_events_stamped ON audit_events",
                """
                CREATE OR REPLACE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN RETURN NULL; END; $$
                """,
                """
                CREATE OR REPLACE FUNCTION refuse_forged_audit_event() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN RETURN NEW; END; $$
                """,
                "ALTER TABLE audit_events OWNER TO CURRENT_USER",
                "CREATE TABLE audit_shadow (id bigint)",
                "SET session_replication_role = replica",
            ]
            for table in Self.historyTables {
                let column = table == "audit_seals" ? "sealed_at" : table == "ingest_items" ? "received_at" : table == "revisions" ? "created_at" : "at"
                statements += [
                    "UPDATE \(table) SET \(column) = \(column)",
                    "DELETE FROM \(table)",
                    "TRUNCATE \(table)",
                    "ALTER TABLE \(table) DISABLE TRIGGER ALL",
                ]
            }
            for sql in statements {
                let state = await Self.refusal(sql, newsroom)
                #expect(state == "42501", "the app role was not refused: \(sql) → \(state ?? "ran")")
            }
            // Nothing changed.
            let events = try await newsroom.database.rows("SELECT count(*) FROM audit_events", logger: newsroom.logger)
            #expect(try events.first?.decode(Int.self) ?? 0 > 0)
        }
    }

    @Test func anEventWithAForgedTimeOrTransactionIsRefused() async throws {
        try await Newsroom.with { newsroom in
            for (column, value) in [("at", "'2001-09-11 08:46:00+00'"), ("at", "now() - interval '1 second'"), ("txid", "'3'")] {
                let state = await Self.refusal(
                    """
                    INSERT INTO audit_events (\(column), actor, actor_role, source, action)
                    VALUES (\(value), 'ed', 'editor', 'cli', 'approve')
                    """, newsroom)
                #expect(state == "42501", "\(column) = \(value) → \(state ?? "ran")")
            }
            // Nor can a feed entry take a place in the feed's order that its transaction did not.
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            for (column, value) in [("at", "now() - interval '1 second'"), ("txid", "'3'")] {
                let state = await Self.refusal(
                    """
                    INSERT INTO feed_entries (\(column), story_id, version, kind, item)
                    VALUES (\(value), '\(story.id)', 99, 'publish', '{}')
                    """, newsroom)
                #expect(state == "42501", "feed_entries: \(column) = \(value) → \(state ?? "ran")")
            }
            // Stamped by the database, it is taken.
            #expect(
                await Self.refusal(
                    "INSERT INTO audit_events (actor, actor_role, source, action) VALUES ('ed', 'editor', 'cli', 'note')",
                    newsroom) == nil)
        }
    }

    @Test func theAppRoleOwnsNothingAndIsNoSuperuser() async throws {
        try await Newsroom.with { newsroom in
            let rows = try await newsroom.database.rows(
                """
                SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb,
                       (SELECT count(*) FROM pg_class c WHERE pg_has_role(current_user, c.relowner, 'USAGE')),
                       (SELECT count(*) FROM pg_proc p WHERE pg_has_role(current_user, p.proowner, 'USAGE'))
                FROM pg_roles r WHERE r.rolname = current_user
                """,
                logger: newsroom.logger)
            let (superuser, createRole, createDB, tables, functions) = try #require(
                try rows.first?.decode((Bool, Bool, Bool, Int, Int).self))
            #expect(!superuser && !createRole && !createDB)
            #expect(tables == 0 && functions == 0)
            // History tables: INSERT and SELECT only.
            for table in Self.historyTables {
                let privileges = try await newsroom.database.rows(
                    """
                    SELECT string_agg(p, ',' ORDER BY p) FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
                    WHERE has_table_privilege(current_user, \(table), p)
                    """,
                    logger: newsroom.logger)
                #expect(try privileges.first?.decode(String.self) == "INSERT,SELECT", "\(table)")
            }
        }
    }

    @Test func migrateRefusesAnAppRoleThatIsASuperuserOrTheOwner() async throws {
        try await TestDatabase.withEmptyDatabase { client, url in
            for role in ["postgres", url.username] {
                let migrator = try Migrator(
                    client: client, directory: TestDatabase.migrationsDirectory, appRole: role)
                await #expect(throws: WiredeskError.self) { try await migrator.migrate(logger: TestDatabase.logger) }
            }
            let tables = try await client.query(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'stories'", logger: TestDatabase.logger)
            for try await count in tables.decode(Int.self) { #expect(count == 0) }
        }
    }

    /// From least privilege on, a migration says what the app role gets, even when it is nothing, so
    /// that a new table cannot arrive without someone deciding its grants.
    @Test func everyMigrationSinceLeastPrivilegeStatesTheAppRolesGrants() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: TestDatabase.migrationsDirectory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        let since = files.drop { !$0.hasPrefix("0004_") }
        #expect(since.count >= 3)
        for file in since {
            let sql = try String(
                contentsOf: TestDatabase.migrationsDirectory.appendingPathComponent(file), encoding: .utf8)
            #expect(sql.contains(":\"app_role\""), "\(file) does not state the app role's grants")
        }
    }
}
