import Logging
import PostgresNIO

/// A session advisory lock on a connection of its own: what makes one of several servers the
/// one that does a piece of work (webhook delivery). The lock lives as long as the session, so
/// when the server holding it stops or dies, another takes it.
public struct SessionLock: Sendable {
    public let key: (class: Int32, id: Int32)

    public init(class lockClass: Int32, id: Int32) {
        key = (lockClass, id)
    }

    /// The lock, while it is held.
    public struct Held: Sendable {
        fileprivate let session: PostgresConnection

        /// Throws when the session, and so the lock, is gone.
        public func check(logger: Logger) async throws {
            try await session.rows("SELECT 1", logger: logger)
        }
    }

    /// Waits for the lock, trying every `standby` on one session of its own, then runs `body`
    /// holding it; the lock is released when `body` ends. Throws when the session fails (the
    /// caller connects again); returns at once when cancelled.
    public func whenHeld(at url: DatabaseURL, standby: Duration, logger: Logger, _ body: (Held) async throws -> Void)
        async throws
    {
        let session = try await url.connect(logger: logger)
        do {
            while !Task.isCancelled {
                let locked = try await session.rows(
                    "SELECT pg_try_advisory_lock(\(key.class), \(key.id))", logger: logger)
                if try locked.first?.decode(Bool.self) == true {
                    try await body(Held(session: session))
                    break
                }
                try await Task.sleep(for: standby)
            }
        } catch {
            try? await session.close()
            throw error
        }
        try? await session.close()
    }
}
