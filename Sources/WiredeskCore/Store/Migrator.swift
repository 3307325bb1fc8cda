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
public struct Migrator: Sendable {
    public let client: PostgresClient
    public let migrations: [Migration]

    /// Any fixed number; it only has to be the same for every Wiredesk process.
    static let lockKey: Int64 = 0x5749_5245_4445_534B  // "WIREDESK"

    public init(client: PostgresClient, directory: URL) throws {
        self.client = client
        self.migrations = try Self.load(from: directory)
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
            var done: [Migration] = []
            for migration in migrations where applied[migration.number] == nil {
                logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
                try await connection.withTransaction(logger: logger) { connection in
                    for statement in SQLScript.statements(migration.sql) {
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
                }
                done.append(migration)
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
                try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
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
