import Logging
import ServiceLifecycle

/// Runs beside the server and chains new audit events every `interval` (`AuditChain.seal`), so
/// that an event is unsealed for at most about that long while no transaction stays open. Several
/// servers on one database take turns; a failed round is logged and tried again.
public struct Sealer: Service {
    public let database: Database
    public let interval: Duration
    public let logger: Logger

    public init(database: Database, interval: Duration = .milliseconds(500), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await AuditChain.seal(database: database, logger: logger)
                } catch where !Task.isCancelled {
                    logger.warning("sealing the audit trail failed; retrying", metadata: ["error": "\(error)"])
                } catch {}
                try? await Task.sleep(for: interval)
            }
        }
    }
}
