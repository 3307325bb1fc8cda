import Crypto
import Foundation
import HummingbirdBcrypt
import Logging
import PostgresNIO

public struct User: Codable, Equatable, Sendable {
    public var name: String
    public var role: Role
    public var createdAt: Date
    public var disabledAt: Date?
}

public struct APIToken: Encodable, Equatable, Sendable {
    public var id: UUID
    public var user: String
    public var createdAt: Date
    public var revokedAt: Date?
    /// When the token stops working; nil: never (until revoked).
    public var expiresAt: Date?
}

/// Users and their API tokens (`users`, `api_tokens`). A token is shown once, when created; only
/// its SHA-256 is stored, so a copy of the database does not hand out working tokens.
public struct UserStore: Sendable {
    public let database: Database
    /// Where `authenticate` keeps the tokens it verified; nil: every check asks the database.
    public let tokens: TokenCache?

    public init(database: Database, tokens: TokenCache? = nil) {
        self.database = database
        self.tokens = tokens
    }

    /// The operator at the admin console, for user and token commands run without `--as`: whoever
    /// can run the CLI against the database already holds every key.
    public static let console = Principal(name: "console", role: .admin, source: .cli)

    public static func validateName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || ASCII.isDigit(byte) || byte == 0x2E || byte == 0x5F
                || byte == 0x2D
        }
        guard (1...64).contains(name.utf8.count), allowed, name.first?.isLetter == true || name.first?.isNumber == true
        else {
            throw WiredeskError.invalid(
                field: "name", "user names are 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
        }
        guard name != console.name else {
            throw WiredeskError.invalid(field: "name", "'console' is reserved for the admin console")
        }
    }

    // MARK: Users

    public func add(_ name: String, role: Role, by principal: Principal, logger: Logger) async throws -> User {
        try Self.validateName(name)
        try Self.checkAdmin(principal)
        do {
            return try await database.transaction(logger: logger) { connection in
                let rows = try await connection.query(
                    "INSERT INTO users (name, role) VALUES (\(name), \(role.rawValue)) RETURNING \(unescaped: Self.userColumns)",
                    logger: logger)
                let user = try await Self.decodeUsers(rows)[0]
                try await AuditLog.record(
                    AuditEntry(
                        principal: principal, action: "user.add", reason: "role \(role.rawValue)", subject: name),
                    on: connection, logger: logger)
                return user
            }
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw WiredeskError(.conflict, "a user named \(name) already exists")
        }
    }

    public func list(logger: Logger) async throws -> [User] {
        try await database.rows("SELECT \(unescaped: Self.userColumns) FROM users ORDER BY name", logger: logger)
            .map(Self.decodeUser)
    }

    /// A disabled user can no longer act: their tokens and `--as` are refused from the next request,
    /// and their desk sessions end.
    public func disable(_ name: String, by principal: Principal, logger: Logger) async throws -> User {
        try await change(
            name, unless: { $0.disabledAt != nil }, set: "disabled_at = now()", endingSessions: true, by: principal,
            logger: logger
        ) { _ in AuditEntry(principal: principal, action: "user.disable", subject: name) }.user
    }

    /// Lets a disabled user act again; their tokens that are neither revoked nor expired work
    /// again from the next request. `changed` is false, and nothing is written, if the user was
    /// not disabled.
    public func enable(
        _ name: String, by principal: Principal, logger: Logger
    ) async throws -> (user: User, changed: Bool) {
        try await change(
            name, unless: { $0.disabledAt == nil }, set: "disabled_at = NULL", by: principal, logger: logger
        ) { _ in AuditEntry(principal: principal, action: "user.enable", subject: name) }
    }

    /// Gives the user another role. Tokens carry no role: each request reads the user's, so the
    /// change holds from the next request on. `changed` is false, and nothing is written, if the
    /// user already has `role`.
    public func changeRole(
        of name: String, to role: Role, by principal: Principal, logger: Logger
    ) async throws -> (user: User, changed: Bool) {
        try await change(
            name, unless: { $0.role == role }, set: "role = \(role.rawValue)", by: principal, logger: logger
        ) { before in
            AuditEntry(
                principal: principal, action: "user.role", reason: "\(before.role.rawValue) → \(role.rawValue)",
                subject: name)
        }
    }

    /// An admin's change to a user and its event, in one transaction, with the user's row locked:
    /// nothing is written if the user is already as asked (`done`).
    /// `endingSessions`: the user's desk sessions end in the same transaction, on every server at once.
    private func change(
        _ name: String, unless done: @escaping @Sendable (User) -> Bool, set assignment: SQL,
        endingSessions: Bool = false, by principal: Principal,
        logger: Logger, event: @escaping @Sendable (_ before: User) -> AuditEntry
    ) async throws -> (user: User, changed: Bool) {
        try Self.checkAdmin(principal)
        return try await database.transaction(logger: logger) { connection in
            let current = try await connection.stream(
                "SELECT \(unescaped: Self.userColumns) FROM users WHERE name = \(name) FOR UPDATE", logger: logger)
            guard let before = try await Self.decodeUsers(current).first else { throw Self.noSuchUser(name) }
            guard !done(before) else { return (before, false) }
            let rows = try await connection.stream(
                "UPDATE users SET \(assignment) WHERE name = \(name) RETURNING \(unescaped: Self.userColumns)",
                logger: logger)
            let after = try await Self.decodeUsers(rows)[0]
            if endingSessions { try await SessionStore.end(sessionsOf: name, on: connection, logger: logger) }
            try await AuditLog.record(event(before), on: connection, logger: logger)
            return (after, true)
        }
    }

    /// The enabled user `name`, acting through `source`.
    public func principal(named name: String, source: ChangeSource, logger: Logger) async throws -> Principal {
        let rows = try await database.rows(
            "SELECT role, disabled_at IS NOT NULL FROM users WHERE name = \(name)", logger: logger)
        guard let (role, disabled) = try rows.first?.decode((String, Bool).self) else { throw Self.noSuchUser(name) }
        guard !disabled else { throw WiredeskError(.unauthenticated, "user \(name) is disabled") }
        return Principal(name: name, role: Role(rawValue: role) ?? .auditor, source: source)
    }

    // MARK: Passwords

    /// bcrypt's work factor: 12, about a quarter of a second a hash on a server core.
    /// `WIREDESK_BCRYPT_COST` (4 to 16) sets another; the test suite's 4 keeps its hundred hashes
    /// from crowding out the tests that time what they wait for.
    static let bcryptCost: UInt8 = {
        let asked = ProcessInfo.processInfo.environment["WIREDESK_BCRYPT_COST"].flatMap { UInt8($0) }
        guard let asked, (4...16).contains(asked) else { return 12 }
        return asked
    }()
    /// bcrypt reads at most 72 bytes; a longer password would be checked only in part.
    public static let passwordBytes = 10...72

    /// Sets the user's desk password, stored as a bcrypt hash. Their desk sessions end, on every
    /// server at once: whoever had the old password is signed out.
    public func setPassword(of name: String, to password: String, by principal: Principal, logger: Logger) async throws {
        try await setPassword(of: name, to: password, cost: Self.bcryptCost, by: principal, logger: logger)
    }

    func setPassword(of name: String, to password: String, cost: UInt8, by principal: Principal, logger: Logger)
        async throws
    {
        try Self.checkAdmin(principal)
        guard Self.passwordBytes.contains(password.utf8.count) else {
            throw WiredeskError.invalid(
                field: "password",
                "a password is \(Self.passwordBytes.lowerBound) to \(Self.passwordBytes.upperBound) bytes (bcrypt reads no more)")
        }
        guard !password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw WiredeskError.invalid(field: "password", "a password has no control characters (a line break, a tab)")
        }
        let hash = try await Offload.run(.passwords) { Bcrypt.hash(password, cost: cost) }
        try await database.transaction(logger: logger) { connection in
            let rows = try await connection.rows(
                "UPDATE users SET password_hash = \(hash), password_changed_at = now() WHERE name = \(name) RETURNING name",
                logger: logger)
            guard !rows.isEmpty else { throw Self.noSuchUser(name) }
            try await SessionStore.end(sessionsOf: name, on: connection, logger: logger)
            try await AuditLog.record(
                AuditEntry(principal: principal, action: "user.passwd", subject: name), on: connection, logger: logger)
        }
    }

    /// The enabled user `name` if `password` is theirs, nil otherwise. An unknown user, one with
    /// no password and a disabled one cost the same hash as a wrong password, so the answer's
    /// timing does not tell which names exist.
    func checkPassword(_ password: String, of name: String, source: ChangeSource, logger: Logger) async throws
        -> Principal?
    {
        let rows = try await database.rows(
            "SELECT role, disabled_at IS NULL, password_hash FROM users WHERE name = \(name)", logger: logger)
        let found = try rows.first?.decode((String, Bool, String?).self)
        let hash = found?.2
        let matches = try await Offload.run(.passwords) {
            // The decoy is made here on first use, off the event loops, like every other hash.
            let checked = Bcrypt.verify(password, hash: hash ?? Self.decoyHash)
            return checked && password.utf8.count <= Self.passwordBytes.upperBound && !password.utf8.contains(0)
        }
        guard matches, let (role, enabled, stored) = found, enabled, stored != nil else { return nil }
        return Principal(name: name, role: Role(rawValue: role) ?? .auditor, source: source)
    }

    /// A hash of nothing anyone can type, checked against for names that have no password.
    private static let decoyHash = Bcrypt.hash(UUID().uuidString + UUID().uuidString, cost: bcryptCost)

    // MARK: Tokens

    /// Returns the token itself, which is never stored and cannot be shown again. With
    /// `expiresIn`, the token stops working that long after the database's `now()`.
    public func createToken(
        for name: String, expiresIn lifetime: Duration? = nil, by principal: Principal, logger: Logger
    ) async throws -> (token: String, info: APIToken) {
        try Self.checkAdmin(principal)
        if let lifetime { try TokenLifetime.check(lifetime) }
        let seconds = lifetime?.components.seconds
        let token = "wd_" + RandomSecret.make()
        let id = UUID.random()
        let info = try await database.transaction(logger: logger) { connection in
            let users = try await connection.query(
                "SELECT disabled_at IS NOT NULL FROM users WHERE name = \(name) FOR UPDATE", logger: logger)
            var found: Bool?
            for try await disabled in users.decode(Bool.self) { found = disabled }
            guard let disabled = found else { throw Self.noSuchUser(name) }
            guard !disabled else { throw WiredeskError(.invalidTransition, "user \(name) is disabled") }
            let rows = try await connection.query(
                """
                INSERT INTO api_tokens (id, user_name, token_hash, expires_at)
                VALUES (\(id), \(name), \(Self.hash(token)), now() + make_interval(secs => \(seconds)::float8))
                RETURNING \(unescaped: Self.tokenColumns)
                """,
                logger: logger)
            let info = try await Self.decodeTokens(rows)[0]
            let expiry = info.expiresAt.map { ", expires \(JSONCoding.formatDate($0))" } ?? ""
            try await AuditLog.record(
                AuditEntry(
                    principal: principal, action: "token.create", reason: "for \(name)\(expiry)",
                    subject: id.uuidString.lowercased()),
                on: connection, logger: logger)
            return info
        }
        return (token, info)
    }

    public func revokeToken(_ id: UUID, by principal: Principal, logger: Logger) async throws -> APIToken {
        try Self.checkAdmin(principal)
        return try await database.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE api_tokens SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL
                RETURNING \(unescaped: Self.tokenColumns)
                """,
                logger: logger)
            if let token = try await Self.decodeTokens(rows).first {
                try await AuditLog.record(
                    AuditEntry(
                        principal: principal, action: "token.revoke", reason: "of \(token.user)",
                        subject: id.uuidString.lowercased()),
                    on: connection, logger: logger)
                return token
            }
            let existing = try await Self.decodeTokens(
                connection.query(
                    "SELECT \(unescaped: Self.tokenColumns) FROM api_tokens WHERE id = \(id)", logger: logger))
            guard let token = existing.first else {
                throw WiredeskError(.notFound, "no token with id \(id.uuidString.lowercased())")
            }
            return token
        }
    }

    public func tokens(of name: String? = nil, logger: Logger) async throws -> [APIToken] {
        try await database.rows(
            """
            SELECT \(unescaped: Self.tokenColumns) FROM api_tokens
            WHERE \(name)::text IS NULL OR user_name = \(name) ORDER BY created_at
            """,
            logger: logger
        ).map(Self.decodeToken)
    }

    /// The user behind a live token, or `unauthenticated`. Expiry is the database's clock, the
    /// same one that set it. With a token cache, a token verified recently is answered from it.
    public func authenticate(token: String, source: ChangeSource, logger: Logger) async throws -> Principal {
        let hash = Self.hash(token)
        if let principal = tokens?.principal(hash: hash, source: source) { return principal }
        let checked = ContinuousClock.now
        let rows = try await database.rows(
            """
            SELECT u.name, u.role, (extract(epoch FROM t.expires_at) - extract(epoch FROM now()))::float8
            FROM api_tokens t JOIN users u ON u.name = t.user_name
            WHERE t.token_hash = \(hash) AND t.revoked_at IS NULL AND u.disabled_at IS NULL
              AND (t.expires_at IS NULL OR t.expires_at > now())
            """,
            logger: logger)
        guard let (name, roleName, secondsLeft) = try rows.first?.decode((String, String, Double?).self) else {
            throw WiredeskError(.unauthenticated, "the token is unknown, revoked, expired, or its user is disabled")
        }
        let role = Role(rawValue: roleName) ?? .auditor
        tokens?.keep(hash: hash, name: name, role: role, secondsLeft: secondsLeft, checked: checked)
        return Principal(name: name, role: role, source: source)
    }

    // MARK: SQL

    private static let userColumns = "name, role, created_at, disabled_at"
    private static let tokenColumns = "id, user_name, created_at, revoked_at, expires_at"

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    static func checkAdmin(_ principal: Principal, to what: String = "manage users and tokens") throws {
        guard principal.role == .admin else {
            throw WiredeskError(
                .forbidden, "\(principal.name) is \(principal.role.rawValue); only admin may \(what)",
                rule: "admin.role")
        }
    }

    /// The user `name` as stored, or `notFound`.
    private static func user(_ name: String, on connection: PostgresConnection, logger: Logger) async throws -> User {
        let rows = try await connection.query(
            "SELECT \(unescaped: userColumns) FROM users WHERE name = \(name)", logger: logger)
        guard let user = try await decodeUsers(rows).first else { throw noSuchUser(name) }
        return user
    }

    private static func noSuchUser(_ name: String) -> WiredeskError {
        WiredeskError(.notFound, "no user named \(name)")
    }

    private static func decodeUser(_ row: PostgresRow) throws -> User {
        let (name, role, createdAt, disabledAt) = try row.decode((String, String, Date, Date?).self)
        return User(name: name, role: Role(rawValue: role) ?? .auditor, createdAt: createdAt, disabledAt: disabledAt)
    }

    private static func decodeToken(_ row: PostgresRow) throws -> APIToken {
        let (id, user, createdAt, revokedAt, expiresAt) = try row.decode((UUID, String, Date, Date?, Date?).self)
        return APIToken(id: id, user: user, createdAt: createdAt, revokedAt: revokedAt, expiresAt: expiresAt)
    }

    private static func decodeUsers(_ rows: PostgresRowSequence) async throws -> [User] {
        var users: [User] = []
        for try await row in rows { users.append(try decodeUser(row)) }
        return users
    }

    private static func decodeTokens(_ rows: PostgresRowSequence) async throws -> [APIToken] {
        var tokens: [APIToken] = []
        for try await row in rows { tokens.append(try decodeToken(row)) }
        return tokens
    }
}
