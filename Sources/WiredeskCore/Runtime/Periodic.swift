import Logging
import ServiceLifecycle

/// Background work that runs beside the server every `interval` until shutdown: sealing the
/// audit trail, sweeping expired idempotency keys. Its state is in tables, so several servers on
/// one database can run it side by side; a failed round is logged and tried again.
public struct Periodic: Service {
    public let name: String
    public let interval: Duration
    public let logger: Logger
    private let work: @Sendable () async throws -> Void

    public init(_ name: String, every interval: Duration, logger: Logger, _ work: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.work = work
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await work()
                } catch where !Task.isCancelled {
                    logger.warning("\(name) failed; retrying", metadata: ["error": "\(error)"])
                } catch {}
                try? await Task.sleep(for: interval)
            }
        }
    }
}

extension Periodic {
    /// Chains new audit events every `interval` (`AuditChain.seal`), so that an event is unsealed
    /// for at most about that long while no transaction stays open.
    public static func sealer(database: Database, interval: Duration = .milliseconds(500), logger: Logger) -> Periodic {
        Periodic("sealing the audit trail", every: interval, logger: logger) {
            try await AuditChain.seal(database: database, logger: logger)
        }
    }

    /// Deletes idempotency keys past their lifetime every `interval`.
    public static func keySweeper(keys: IdempotencyStore, interval: Duration = .seconds(600), logger: Logger) -> Periodic {
        Periodic("sweeping idempotency keys", every: interval, logger: logger) {
            try await keys.sweep(logger: logger)
        }
    }
}
