import Foundation
import Logging
import PostgresNIO

/// A signed-in browser: who it is, and the token its forms must carry (CSRF).
public struct DeskSession: Sendable, Equatable {
    public var principal: Principal
    public var csrf: String
}

/// Web desk sessions (`desk_sessions`), signed in with a password or an API token. The browser
/// holds a random token in a cookie; only its SHA-256 is stored. Every request looks its session
/// up, joined with the user, so a sign-out, a disabled user or a new password ends a session on
/// every server from the next request.
///
/// hummingbird-auth's session middleware keeps a session as an opaque value under its key; ending
/// all of one user's sessions needs them found by user, so they are rows here instead.
public struct SessionStore: Sendable {
    public let database: Database
    public let throttle: SignInThrottle
    /// A session unused this long ends.
    public static let idle: Duration = .seconds(12 * 3600)
    /// And every session ends this long after sign-in.
    public static let lifetime: Duration = .seconds(7 * 24 * 3600)

    public init(database: Database, limits: SignInLimits = SignInLimits()) {
        self.database = database
        self.throttle = SignInThrottle(database: database, limits: limits)
    }

    /// Signs in with a password. The attempt is counted (and refused when over the limit) before
    /// the password is hashed; a wrong name or password is one and the same answer.
    public func signIn(name: String, password: String, address: String, logger: Logger) async throws
        -> (token: String, session: DeskSession)
    {
        let name = String(name.trimmingCharacters(in: .whitespaces).lowercased().prefix(64))
        try await throttle.admit(account: name, address: address, logger: logger)
        let users = UserStore(database: database)
        guard let principal = try await users.checkPassword(password, of: name, source: .desk, logger: logger) else {
            try await throttle.failed(account: name, address: address, logger: logger)
            throw WiredeskError(.unauthenticated, "wrong user name or password", rule: "signin.password")
        }
        try await throttle.succeeded(account: name, address: address, logger: logger)
        return try await start(for: principal, how: "password", address: address, logger: logger)
    }

    /// Signs in with an API token, as the token's user. Counted against the address like a password.
    public func signIn(token: String, address: String, logger: Logger) async throws -> (token: String, session: DeskSession) {
        try await throttle.admit(account: "token", address: address, logger: logger)
        let principal: Principal
        do {
            principal = try await UserStore(database: database).authenticate(
                token: token.trimmingCharacters(in: .whitespaces), source: .desk, logger: logger)
        } catch let error as WiredeskError where error.kind == .unauthenticated {
            try await throttle.failed(account: "token", address: address, logger: logger)
            throw WiredeskError(.unauthenticated, error.message, rule: "signin.token")
        }
        try await throttle.succeeded(account: "token", address: address, logger: logger)
        return try await start(for: principal, how: "token", address: address, logger: logger)
    }

    private func start(for principal: Principal, how: String, address: String, logger: Logger) async throws
        -> (token: String, session: DeskSession)
    {
        let token = RandomSecret.make()
        let session = DeskSession(principal: principal, csrf: RandomSecret.make())
        try await database.transaction(logger: logger) { connection in
            // Sessions past their time go as new ones come: the table holds live ones only.
            try await connection.rows(
                """
                DELETE FROM desk_sessions
                WHERE expires_at < now() OR seen_at < now() - \(Self.seconds(Self.idle))::float8 * interval '1 second'
                """,
                logger: logger)
            try await connection.rows(
                """
                INSERT INTO desk_sessions (token_hash, user_name, csrf, expires_at)
                VALUES (\(UserStore.hash(token)), \(principal.name), \(session.csrf),
                        now() + \(Self.seconds(Self.lifetime))::float8 * interval '1 second')
                """,
                logger: logger)
            try await AuditLog.record(
                AuditEntry(principal: principal, action: "signin", reason: "with a \(how) from \(address)"),
                on: connection, logger: logger)
        }
        return (token, session)
    }

    /// The live session whose cookie is `token`, or nil.
    public func session(_ token: String, logger: Logger) async throws -> DeskSession? {
        guard RandomSecret.isWellFormed(token) else { return nil }
        let hash = UserStore.hash(token)
        let rows = try await database.rows(
            """
            SELECT u.name, u.role, s.csrf, s.seen_at < now() - interval '1 minute'
            FROM desk_sessions s JOIN users u ON u.name = s.user_name
            WHERE s.token_hash = \(hash) AND u.disabled_at IS NULL AND s.expires_at > now()
              AND s.seen_at > now() - \(Self.seconds(Self.idle))::float8 * interval '1 second'
            """,
            logger: logger)
        guard let (name, role, csrf, stale) = try rows.first?.decode((String, String, String, Bool).self) else {
            return nil
        }
        if stale {
            // Idle time is kept to the minute: a write per page view would be a write per read.
            try await database.rows("UPDATE desk_sessions SET seen_at = now() WHERE token_hash = \(hash)", logger: logger)
        }
        return DeskSession(principal: Principal(name: name, role: Role(rawValue: role) ?? .auditor, source: .desk), csrf: csrf)
    }

    /// Ends the session whose cookie is `token`.
    public func signOut(_ token: String, by principal: Principal, logger: Logger) async throws {
        guard RandomSecret.isWellFormed(token) else { return }
        try await database.transaction(logger: logger) { connection in
            let ended = try await connection.rows(
                "DELETE FROM desk_sessions WHERE token_hash = \(UserStore.hash(token)) RETURNING 1", logger: logger)
            guard !ended.isEmpty else { return }
            try await AuditLog.record(AuditEntry(principal: principal, action: "signout"), on: connection, logger: logger)
        }
    }

    /// Ends every session of `name`, inside the caller's transaction (a user disabled, a password
    /// changed).
    static func end(sessionsOf name: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.rows("DELETE FROM desk_sessions WHERE user_name = \(name)", logger: logger)
    }

    private static func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) }
}
