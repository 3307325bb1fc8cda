import Crypto
import Foundation
import Logging
import PostgresNIO

/// Idempotency keys (`idempotency_keys`, migration 0008): a write retried with the key it was
/// first sent with gets the first answer again and changes nothing.
///
/// The key, the change and the answer are one unit of work (`Database.unitOfWork`), so they
/// commit together or not at all: a crash midway leaves neither the change nor the key, and the
/// retry does the work once. Requests with the same key from the same user take turns on a
/// transaction-scoped advisory lock, so a concurrent duplicate waits for the first and then gets
/// its answer. Failures that are not answers (5xx, a lost database) keep nothing, so a retry runs
/// again.
public struct IdempotencyStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// How long a key is kept at least.
    public static let lifetime: Duration = .seconds(24 * 3600)

    /// An answer as it went out: what a retry gets again.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        /// The headers that are part of the answer (content type, ETag, Location), lowercased names.
        public var headers: [String: String]
        public var body: [UInt8]

        public init(status: Int, headers: [String: String], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// Keys are what a client's library makes of a UUID or a counter: 1 to 255 visible ASCII characters.
    public static func check(key: String) throws {
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy(ASCII.isVisible) else {
            throw WiredeskError.malformed(field: "Idempotency-Key", "expected 1 to 255 visible ASCII characters")
        }
    }

    /// What makes two requests the same request: SHA-256 over each part, length-prefixed.
    public static func fingerprint(_ parts: [String], body: some Collection<UInt8>) -> [UInt8] {
        var hash = SHA256()
        for part in parts {
            withUnsafeBytes(of: UInt64(part.utf8.count).bigEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: Array(part.utf8))
        }
        withUnsafeBytes(of: UInt64(body.count).bigEndian) { hash.update(bufferPointer: $0) }
        hash.update(data: Array(body))
        return Array(hash.finalize())
    }

    /// A 5xx answer is not kept: it rolls the unit back and goes out as it is.
    private struct NotKept: Error {
        var answer: Answer
    }

    /// The answer `user` got for `key`, if the key was used within its lifetime with the same
    /// request (`replayed`); otherwise `work`'s answer, kept with the key. The same key with a
    /// different request is refused (422).
    public func answer(
        user: String, key: String, fingerprint: [UInt8], logger: Logger,
        _ work: @escaping @Sendable () async throws -> Answer
    ) async throws -> (answer: Answer, replayed: Bool) {
        try Self.check(key: key)
        let seconds = Int(Self.lifetime.components.seconds)
        do {
            return try await database.unitOfWork(logger: logger) {
                try await Self.takeTurn(user: user, key: key, database: database, logger: logger)
                let kept = try await database.rows(
                    """
                    SELECT fingerprint, status, headers::text, body FROM idempotency_keys
                    WHERE user_name = \(user) AND key = \(key)
                      AND created_at > now() - \(seconds) * interval '1 second'
                    """, logger: logger)
                if let row = kept.first {
                    let (stored, status, headers, body) = try row.decode((ByteBuffer, Int, String, ByteBuffer).self)
                    guard Array(buffer: stored) == fingerprint else {
                        // The request's own faults come first (no If-Match is 428 whatever its
                        // key); one that would be carried out is refused for reusing the key, and
                        // what it did is rolled back with the unit.
                        let answer = try await work()
                        if answer.status >= 400 { throw NotKept(answer: answer) }
                        throw WiredeskError(
                            .validation, "Idempotency-Key \(key) was first used with a different request",
                            rule: "idempotency-key.reuse")
                    }
                    let fields = try JSONCoding.decode([String: String].self, from: Data(headers.utf8))
                    return (Answer(status: status, headers: fields, body: Array(buffer: body)), true)
                }
                // A key past its lifetime that the sweep has not reached yet is free again.
                try await database.rows(
                    "DELETE FROM idempotency_keys WHERE user_name = \(user) AND key = \(key)", logger: logger)
                let answer = try await work()
                guard answer.status < 500 else { throw NotKept(answer: answer) }
                let headers = String(decoding: try JSONCoding.encode(answer.headers), as: UTF8.self)
                try await database.rows(
                    """
                    INSERT INTO idempotency_keys (user_name, key, fingerprint, status, headers, body)
                    VALUES (\(user), \(key), \(ByteBuffer(bytes: fingerprint)), \(answer.status), \(headers)::jsonb,
                            \(ByteBuffer(bytes: answer.body)))
                    """, logger: logger)
                return (answer, false)
            }
        } catch let notKept as NotKept {
            return (notKept.answer, false)
        }
    }

    /// How long a duplicate waits for the first request with its key: longer than a write waits
    /// for a story's row, since the first may itself be waiting for one.
    public static let turnWait: Duration = .seconds(10)

    /// Waits for any other request with the same user and key to end (the lock is the
    /// transaction's), under its own lock timeout, then puts the session's back.
    private static func takeTurn(user: String, key: String, database: Database, logger: Logger) async throws {
        let wait = "\(turnWait.components.seconds)s"
        let previous = try await database.rows(
            "SELECT current_setting('lock_timeout'), set_config('lock_timeout', \(wait), true)", logger: logger
        ).first?.makeRandomAccess()[0].decode(String.self) ?? "0"
        do {
            try await database.rows(
                "SELECT pg_advisory_xact_lock(\(lockClass), hashtext(\(user) || chr(1) || \(key)))", logger: logger)
        } catch let error as WiredeskError where error.kind == .unavailable {
            throw WiredeskError(.unavailable, "a request with this Idempotency-Key is still running; retry shortly")
        }
        try await database.rows("SELECT set_config('lock_timeout', \(previous), true)", logger: logger)
    }

    /// Deletes keys past their lifetime; returns how many.
    @discardableResult
    public func sweep(logger: Logger) async throws -> Int {
        let seconds = Int(Self.lifetime.components.seconds)
        let rows = try await database.rows(
            """
            WITH gone AS (DELETE FROM idempotency_keys WHERE created_at <= now() - \(seconds) * interval '1 second'
                          RETURNING 1)
            SELECT count(*)::int FROM gone
            """, logger: logger)
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// The advisory locks of idempotency keys, apart from every other advisory lock.
    public static let lockClass: Int32 = 0x1D3
}
