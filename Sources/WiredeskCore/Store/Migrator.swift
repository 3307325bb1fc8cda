import Crypto
import Foundation
import Logging
import PostgresNIO

/// One file in `migrations/`, named `NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public var number: Int
    public var name: String
    public var sql: String
    /// SHA-256 of the file, hex: an applied migration whose file changed is refused.
    public var checksum: String

}

public struct MigrationStatus: Sendable, Equatable {
    public var migration: Migration
    public var appliedAt: Date?
}

/// Applies `migrations/NNNN_name.sql` in order, each in its own transaction, recording each in
/// `schema_migrations`. A session advisory lock makes concurrent runs wait for each other.
///
/// It runs as the owner of the schema. The server and the CLI connect as the app role, which
/// migrations grant to by writing `:"app_role"`; the migrator creates that role if it is missing
/// and refuses one that could undo what the grants withhold (a superuser, the owner itself or a
/// member of the owner's role).
public struct Migrator: Sendable {
    public let client: PostgresClient
    public let migrations: [Migration]
    public let appRole: String
    /// The app role's password, when the migrator has to create it.
    public let appPassword: String?

    /// Any fixed number; it only has to be the same for every Wiredesk process.
    static let lockKey: Int64 = 0x5749_5245_4445_534B  // "WIREDESK"

    public init(client: PostgresClient, directory: URL, appRole: String = "wiredesk_app", appPassword: String? = nil)
        throws
    {
        self.client = client
        self.migrations = try Self.load(from: directory)
        guard (1...63).contains(appRole.utf8.count), !appRole.utf8.contains(0) else {
            throw WiredeskError.invalid(field: "WIREDESK_APP_ROLE", "a role name is 1 to 63 bytes")
        }
        self.appRole = appRole
        self.appPassword = appPassword
    }

    /// `WIREDESK_APP_ROLE` (default `wiredesk_app`) and, for creating it, `WIREDESK_APP_PASSWORD`.
    public init(client: PostgresClient, directory: URL, environment env: [String: String]) throws {
        try self.init(
            client: client, directory: directory,
            appRole: env["WIREDESK_APP_ROLE"].flatMap { $0.isEmpty ? nil : $0 } ?? "wiredesk_app",
            appPassword: env["WIREDESK_APP_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The migration's SQL with the app role's name, quoted, where `:"app_role"` stands.
    func statements(of migration: Migration) -> [String] {
        let quoted = "\"" + appRole.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        return SQLScript.statements(migration.sql.replacingOccurrences(of: ":\"app_role\"", with: quoted))
    }

    /// `WIREDESK_MIGRATIONS` when set, else `migrations/` in the working directory.
    public static func defaultDirectory(_ env: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        URL(fileURLWithPath: env["WIREDESK_MIGRATIONS"].flatMap { $0.isEmpty ? nil : $0 } ?? "migrations")
    }

    public static func load(from directory: URL) throws -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw WiredeskError(
                .notFound,
                "no migrations directory at \(directory.path) (run from the project folder or set WIREDESK_MIGRATIONS)")
        }
        var migrations: [Migration] = []
        for file in files.sorted() where file.hasSuffix(".sql") {
            let digits = file.prefix(while: \.isNumber)
            guard digits.count == 4, let number = Int(digits), file.dropFirst(4).first == "_" else {
                throw WiredeskError.invalid(field: file, "migration files are named NNNN_name.sql")
            }
            if let clash = migrations.first(where: { $0.number == number }) {
                throw WiredeskError.invalid(field: file, "migration number \(digits) is also used by \(clash.name)")
            }
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            guard let sql = String(data: data, encoding: .utf8) else {
                throw WiredeskError.invalid(field: file, "not UTF-8")
            }
            let checksum = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            migrations.append(Migration(number: number, name: file, sql: sql, checksum: checksum))
        }
        return migrations
    }

    /// Applies what is pending and returns it; an empty result means the schema was current.
    @discardableResult
    public func migrate(logger: Logger) async throws -> [Migration] {
        try await locked(logger: logger) { connection in
            let applied = try await Self.applied(on: connection, logger: logger)
            try verify(applied)
            try await ensureAppRole(on: connection, logger: logger)
            var done: [Migration] = []
            for migration in migrations where applied[migration.number] == nil {
                logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
                let applied = try await connection.withTransaction(logger: logger) { connection -> Bool in
                    // Under the session lock already; taken again for this transaction and the
                    // record looked at once more, so that a migration is never applied twice even
                    // if a run got past the session lock (CI once saw two runs create 0006's indexes).
                    for try await _ in try await connection.query(
                        "SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                    {}
                    let recorded = try await connection.query(
                        "SELECT 1 FROM schema_migrations WHERE number = \(migration.number)", logger: logger)
                    for try await _ in recorded { return false }
                    for statement in statements(of: migration) {
                        do {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        } catch let error as PSQLError {
                            let message = error.serverInfo?[.message] ?? "\(error.code)"
                            throw WiredeskError.invalid(field: migration.name, "failed: \(message)")
                        }
                    }
                    try await connection.query(
                        """
                        INSERT INTO schema_migrations (number, name, checksum)
                        VALUES (\(migration.number), \(migration.name), \(migration.checksum))
                        """,
                        logger: logger)
                    return true
                }
                if applied { done.append(migration) }
            }
            return done
        }
    }

    /// Every migration on disk with the time it was applied, if it was.
    public func status(logger: Logger) async throws -> [MigrationStatus] {
        try await locked(logger: logger) { connection in
            let applied = try await Self.applied(on: connection, logger: logger)
            try verify(applied)
            return migrations.map { MigrationStatus(migration: $0, appliedAt: applied[$0.number]?.at) }
        }
    }

    /// Creates the app role if it is missing; refuses one with more power than the grants give it.
    private func ensureAppRole(on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            SELECT r.rolsuper, r.rolname = current_user, pg_has_role(r.oid, current_user, 'USAGE')
            FROM pg_roles r WHERE r.rolname = \(appRole)
            """, logger: logger)
        var found: (superuser: Bool, isOwner: Bool, memberOfOwner: Bool)?
        for try await row in rows.decode((Bool, Bool, Bool).self) { found = row }
        guard let found else {
            // Identifiers and a password cannot be binds: let PostgreSQL quote them.
            let create = try await connection.query(
                """
                SELECT CASE WHEN \(appPassword)::text IS NULL THEN format('CREATE ROLE %I LOGIN', \(appRole)::text)
                       ELSE format('CREATE ROLE %I LOGIN PASSWORD %L', \(appRole)::text, \(appPassword)::text) END
                """, logger: logger)
            for try await statement in create.decode(String.self) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            logger.notice("created the app role", metadata: ["role": "\(appRole)"])
            return
        }
        let why =
            found.superuser
            ? "is a superuser" : found.isOwner ? "is the role running the migrations (the owner)"
            : found.memberOfOwner ? "is a member of the owner's role" : nil
        if let why {
            throw WiredeskError(
                .conflict,
                "the app role \(appRole) \(why): the server must connect as a role of its own that owns nothing (set WIREDESK_APP_ROLE)"
            )
        }
    }

    /// Refuses a database whose applied migrations no longer match the files.
    private func verify(_ applied: [Int: (name: String, checksum: String, at: Date)]) throws {
        for (number, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let file = migrations.first(where: { $0.number == number }) else {
                throw WiredeskError(
                    .conflict,
                    "migration \(record.name) is applied in the database but missing from the migrations directory")
            }
            guard file.checksum == record.checksum else {
                throw WiredeskError(
                    .conflict,
                    "migration \(record.name) was changed after it was applied (checksum differs); add a new migration instead"
                )
            }
        }
    }

    private func locked<T: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await databaseErrors {
            try await client.withConnection { connection in
                // Another run's migrations may take longer than the session's lock_timeout, which
                // is there for the server's tables: wait for that run without a bound.
                try await connection.query("SET lock_timeout = 0", logger: logger)
                // Read to the end: the statement has run, and the lock is held, only when its row came.
                for try await _ in try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger) {}
                try await connection.query("RESET lock_timeout", logger: logger)
                do {
                    try await connection.query(
                        """
                        CREATE TABLE IF NOT EXISTS schema_migrations (
                            number integer PRIMARY KEY,
                            name text NOT NULL,
                            checksum text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now()
                        )
                        """,
                        logger: logger)
                    let result = try await body(connection)
                    try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                    throw error
                }
            }
        }
    }

    private static func applied(
        on connection: PostgresConnection, logger: Logger
    ) async throws -> [Int: (name: String, checksum: String, at: Date)] {
        var applied: [Int: (name: String, checksum: String, at: Date)] = [:]
        let rows = try await connection.query(
            "SELECT number, name, checksum, applied_at FROM schema_migrations", logger: logger)
        for try await (number, name, checksum, at) in rows.decode((Int, String, String, Date).self) {
            applied[number] = (name, checksum, at)
        }
        return applied
    }
}
