import Foundation
import Logging
import PostgresNIO
import WiredeskCore

/// Each test gets a database of its own, created from a template that was migrated once per test
/// process. The server is the throwaway cluster `scripts/test` starts and names in
/// `WIREDESK_TEST_DATABASE_URL` (a superuser URL, which creates databases, runs migrations and
/// plays the attacker) and `WIREDESK_TEST_APP_URL` (the app role, which everything else uses, as
/// the server does).
public enum TestDatabase {
    public static let logger: Logger = {
        var logger = Logger(label: "wiredesk-test")
        logger.logLevel = .error
        return logger
    }()

    public static var serverURL: DatabaseURL {
        get throws {
            guard let text = ProcessInfo.processInfo.environment["WIREDESK_TEST_DATABASE_URL"] else {
                throw TestSetupError("WIREDESK_TEST_DATABASE_URL is not set: run the tests with scripts/test")
            }
            return try DatabaseURL(parsing: text)
        }
    }

    public static var appServerURL: DatabaseURL {
        get throws {
            guard let text = ProcessInfo.processInfo.environment["WIREDESK_TEST_APP_URL"] else {
                throw TestSetupError("WIREDESK_TEST_APP_URL is not set: run the tests with scripts/test")
            }
            return try DatabaseURL(parsing: text)
        }
    }

    /// `url` as the app role.
    public static func appURL(_ url: DatabaseURL) throws -> DatabaseURL {
        try url.as(appServerURL)
    }

    /// `url` as the superuser, the owner of the schema.
    public static func ownerURL(_ url: DatabaseURL) throws -> DatabaseURL {
        try url.as(serverURL)
    }

    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
    public static let fixturesDirectory = repositoryRoot.appendingPathComponent("Tests/Fixtures")

    public static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
    }

    /// Runs `body` with a client on a new, empty database (no migrations), dropped afterwards: as
    /// the owner, who migrates it.
    public static func withEmptyDatabase<T: Sendable>(
        _ body: @Sendable (PostgresClient, DatabaseURL) async throws -> T
    ) async throws -> T {
        let name = try await Registry.shared.createDatabase(template: nil)
        return try await using(name, as: try serverURL, body)
    }

    /// Runs `body` with a client on a new, migrated database, dropped afterwards: as the app role.
    public static func withMigratedDatabase<T: Sendable>(
        _ body: @Sendable (PostgresClient, DatabaseURL) async throws -> T
    ) async throws -> T {
        let template = try await Registry.shared.template()
        let name = try await Registry.shared.createDatabase(template: template)
        return try await using(name, as: try appServerURL, body)
    }

    private static func using<T: Sendable>(
        _ name: String, as role: DatabaseURL, _ body: @Sendable (PostgresClient, DatabaseURL) async throws -> T
    ) async throws -> T {
        var target = role
        target.database = name
        let url = target
        let result: Result<T, any Error>
        do {
            result = .success(try await withClient(url) { client in try await body(client, url) })
        } catch {
            result = .failure(error)
        }
        try? await Registry.shared.drop(name)
        return try result.get()
    }

    /// Runs `body` with a running pool on `url`, shut down afterwards.
    public static func withClient<T: Sendable>(
        _ url: DatabaseURL, maximumConnections: Int = 20, limits: SessionLimits = .operator,
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections, limits: limits),
            backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Creates and drops databases through one connection to the server's `postgres` database.
    actor Registry {
        static let shared = Registry()
        private var templateName: String?

        func template() async throws -> String {
            if let templateName { return templateName }
            let name = try await createDatabase(template: nil)
            var url = try serverURL
            url.database = name
            _ = try await withClient(url) { client in
                try await Migrator(client: client, directory: migrationsDirectory).migrate(logger: logger)
            }
            templateName = name
            return name
        }

        func createDatabase(template: String?) async throws -> String {
            let name = "wd_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            let from = template.map { " TEMPLATE \($0)" } ?? ""
            try await admin { client in
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(from)"), logger: logger)
            }
            return name
        }

        /// One DROP DATABASE at a time: each waits for a checkpoint holding a transaction id, and
        /// dozens at once held back the transaction horizon, which the feed and the audit seal wait
        /// on across the whole server, for a minute.
        private let drops = Gate(width: 1)

        func drop(_ name: String) async throws {
            await drops.enter()
            defer { drops.leave() }
            try await admin { client in
                try await client.query(
                    PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
            }
        }

        private func admin(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
            try await withClient(try serverURL, maximumConnections: 1, body)
        }
    }
}

extension DatabaseURL {
    /// The same server and database, with `role`'s user name and password.
    func `as`(_ role: DatabaseURL) -> DatabaseURL {
        var url = self
        url.username = role.username
        url.password = role.password
        return url
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
