import Foundation
import Logging
import PostgresNIO

/// LISTEN on a channel of PostgreSQL's, on a connection of its own (a LISTEN holds its session,
/// so the pool's connections cannot be used), connecting again a second after a failure, until
/// the task is cancelled.
enum Listener {
    /// `connected`: each time listening (re)starts — what was sent while nobody listened is lost.
    /// `notified`: each notification's payload.
    static func listen(
        on channel: String, url: DatabaseURL, logger: Logger, connected: @Sendable () -> Void,
        notified: @Sendable (String) -> Void
    ) async {
        while !Task.isCancelled {
            var connection: PostgresConnection?
            do {
                let opened = try await url.connect(logger: logger)
                connection = opened
                try await opened.listen(on: channel) { notifications in
                    connected()
                    for try await notification in notifications {
                        notified(notification.payload)
                    }
                }
            } catch where !Task.isCancelled {
                logger.warning("notifications on \(channel) lost; listening again", metadata: ["error": "\(error)"])
            } catch {}
            try? await connection?.close()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
