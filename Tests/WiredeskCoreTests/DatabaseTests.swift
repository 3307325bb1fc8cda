import Foundation
import PostgresNIO
import Synchronization
import Testing
import WiredeskCore
import WiredeskTestSupport

/// The pool's promises to its callers: an answer always comes, and a lost connection is `unavailable`.
@Suite struct DatabaseTests {
    /// PostgresNIO drops a query written to a connection whose socket has just closed: nothing ever
    /// answers it. When PostgreSQL restarts, the pool can hand out such a connection before it
    /// hears of the close, and the request that got it waited for ever, and with it the server's
    /// shutdown. Closing the connection by hand makes that race certain.
    @Test func aQueryOnAConnectionThatHasJustClosedIsAnsweredNotLostForEver() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let database = Database(client: client, maximumConnections: 2, acquireTimeout: .seconds(5))
            let outcome = Mutex<Result<Void, any Error>?>(nil)
            let lost = Task {
                do {
                    try await database.transaction(logger: TestDatabase.logger) { connection in
                        try await connection.close()
                        _ = try await connection.query("SELECT 1", logger: TestDatabase.logger)
                    }
                    outcome.withLock { $0 = .success(()) }
                } catch {
                    outcome.withLock { $0 = .failure(error) }
                }
            }
            // Not `await lost.value`: without an answer it would never return, and the test would hang.
            let deadline = ContinuousClock.now + .seconds(90)
            while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            guard let result = outcome.withLock({ $0 }) else {
                Issue.record("no answer within 90 s for a query on a closed connection")
                lost.cancel()
                return
            }
            switch result {
            case .success: Issue.record("a query on a closed connection succeeded")
            case .failure(let error): #expect((error as? WiredeskError)?.kind == .unavailable, "\(error)")
            }

            // The pool goes on serving with its other connections (opening one may take a while on
            // a machine busy with the whole suite: that wait says nothing of the lost query).
            let patient = Database(client: client, maximumConnections: 2, acquireTimeout: .seconds(60))
            let one = try await patient.transaction(logger: TestDatabase.logger) { connection in
                var total = 0
                for try await value in try await connection.query("SELECT 1", logger: TestDatabase.logger)
                    .decode(Int.self)
                {
                    total += value
                }
                return total
            }
            #expect(one == 1)
        }
    }
}
