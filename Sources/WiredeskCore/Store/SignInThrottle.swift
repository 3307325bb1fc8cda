import Foundation
import Logging
import PostgresNIO

/// How many sign-in attempts a client address and an account get per window.
public struct SignInLimits: Sendable, Equatable {
    /// Attempts from one address (a newsroom behind one NAT shares it: successful sign-ins give
    /// theirs back).
    public var perAddress: Int
    /// Attempts at one account; a success clears them.
    public var perAccount: Int
    public var window: Duration

    public init(perAddress: Int = 30, perAccount: Int = 10, window: Duration = .seconds(15 * 60)) {
        self.perAddress = perAddress
        self.perAccount = perAccount
        self.window = window
    }
}

/// Counts sign-in attempts in PostgreSQL (`sign_in_attempts`), so that every server behind a
/// balancer counts the same guesses. An attempt is counted, and refused when over the limit,
/// before any password hash is computed: a flood of guesses costs one row update each, not a
/// bcrypt. Failures reach the audit trail in aggregate: the first failure of an account's window,
/// and the moment an account or an address reaches its limit — never one event per guess.
public struct SignInThrottle: Sendable {
    public let database: Database
    public let limits: SignInLimits

    public init(database: Database, limits: SignInLimits = SignInLimits()) {
        self.database = database
        self.limits = limits
    }

    /// Counts an attempt at `account` from `address`, or refuses it as `throttled`.
    func admit(account: String, address: String, logger: Logger) async throws {
        let rows = try await database.rows(
            """
            INSERT INTO sign_in_attempts AS a (key, window_start, attempts)
            VALUES (\(Self.key(address: address)), now(), 1), (\(Self.key(account: account)), now(), 1)
            ON CONFLICT (key) DO UPDATE SET
                window_start = CASE WHEN a.window_start < now() - \(seconds)::float8 * interval '1 second'
                                    THEN now() ELSE a.window_start END,
                attempts = CASE WHEN a.window_start < now() - \(seconds)::float8 * interval '1 second'
                                THEN 1 ELSE a.attempts + 1 END,
                failures = CASE WHEN a.window_start < now() - \(seconds)::float8 * interval '1 second'
                                THEN 0 ELSE a.failures END
            RETURNING key, attempts,
                ceil(extract(epoch FROM a.window_start + \(seconds)::float8 * interval '1 second' - now()))::integer
            """,
            logger: logger)
        for row in rows {
            let (key, attempts, wait) = try row.decode((String, Int, Int).self)
            // Attempts, not failures: guesses still being checked count too, so a burst of them
            // at once is refused as one after another would be.
            if attempts > (key.hasPrefix("address:") ? limits.perAddress : limits.perAccount) {
                throw WiredeskError(
                    .throttled, "too many sign-in attempts; try again in \(Self.minutes(wait))",
                    rule: "signin.throttle", retryAfter: max(1, wait))
            }
        }
    }

    /// A wrong password or an unknown account: counted against the account, recorded in the trail
    /// when it is the window's first or reaches a limit.
    func failed(account: String, address: String, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let rows = try await connection.rows(
                """
                UPDATE sign_in_attempts SET failures = failures + 1
                WHERE key IN (\(Self.key(address: address)), \(Self.key(account: account)))
                RETURNING key, attempts, failures
                """,
                logger: logger)
            for row in rows {
                let (key, attempts, failures) = try row.decode((String, Int, Int).self)
                let reason: String? =
                    if key.hasPrefix("account:") {
                        failures == 1
                            ? "first failed sign-in in this window, from \(address); further failures are counted, not listed"
                            : failures == limits.perAccount
                                ? "\(failures) failed sign-ins within \(Self.minutes(limits.window)); the account is throttled"
                                : nil
                    } else {
                        attempts == limits.perAddress
                            ? "\(attempts) sign-in attempts from \(address) within \(Self.minutes(limits.window)); the address is throttled"
                            : nil
                    }
                guard let reason else { continue }
                try await AuditLog.record(
                    AuditEntry(
                        principal: Self.anonymous, action: key.hasPrefix("account:") ? "signin.fail" : "signin.throttle",
                        reason: reason, subject: key.hasPrefix("account:") ? account : address),
                    on: connection, logger: logger)
            }
        }
    }

    /// A successful sign-in clears the account's failures and gives the address its attempt back.
    func succeeded(account: String, address: String, logger: Logger) async throws {
        try await database.rows(
            """
            WITH cleared AS (DELETE FROM sign_in_attempts WHERE key = \(Self.key(account: account)))
            UPDATE sign_in_attempts SET attempts = greatest(attempts - 1, 0) WHERE key = \(Self.key(address: address))
            """,
            logger: logger)
    }

    /// The actor of a failed sign-in: nobody has proved who they are.
    static let anonymous = Principal(name: "anonymous", role: .subscriber, source: .desk)

    private var seconds: Double { Double(limits.window.components.seconds) }

    static func key(address: String) -> String { "address:" + String(address.prefix(100)) }
    static func key(account: String) -> String { "account:" + String(account.prefix(100)) }

    private static func minutes(_ seconds: Int) -> String {
        seconds < 90 ? "\(max(seconds, 1)) s" : "\((seconds + 59) / 60) min"
    }

    private static func minutes(_ duration: Duration) -> String { minutes(Int(duration.components.seconds)) }
}
