import Hummingbird
import Logging
import PostgresNIO
import WiredeskCore

public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    public var database: DatabaseURL

    public init(host: String = "127.0.0.1", port: Int = 8080, database: DatabaseURL) {
        self.host = host
        self.port = port
        self.database = database
    }
}

/// The HTTP server, used by `wiredesk serve` and by the tests alike. The database pool runs as a
/// service beside the server and is shut down after it on SIGTERM.
public func buildApplication(_ settings: ServerSettings, logger: Logger) -> some ApplicationProtocol {
    let client = PostgresClient(configuration: settings.database.clientConfiguration(), backgroundLogger: logger)
    let router = Router()
    router.get("/health") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    router.get("/ready") { _, context in
        do {
            try await client.query("SELECT 1", logger: context.logger)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ready"}"#)))
        } catch {
            return Response(
                status: .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"database unavailable"}"#)))
        }
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "wiredesk"),
        services: [client],
        logger: logger)
}
