import Foundation
public import Logging
public import ServiceLifecycle

/// Ends the process when a graceful shutdown outlasts its deadline. On SIGTERM the server stops
/// taking connections and finishes the requests in flight; a request stuck on a client or a lock
/// must not keep alive a server that was asked to stop. Listed after the server in its service
/// group, so that it hears of the shutdown first.
public struct ShutdownDeadline: Service {
    let deadline: Duration
    let logger: Logger

    public init(_ deadline: Duration, logger: Logger) {
        self.deadline = deadline
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is ending anyway
        }
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        let logger = self.logger
        // A thread of its own: the event loops and the task pool may be what is stuck.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            logger.error(
                "shutdown took longer than its deadline; exiting with requests still in flight",
                metadata: ["deadline_s": "\(seconds)"])
            exit(1)
        }
    }
}
