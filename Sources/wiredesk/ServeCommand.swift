import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import WiredeskAPI
import WiredeskCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP API until SIGTERM or SIGINT.")

    @Option(help: "Address to listen on.")
    var host = ProcessInfo.processInfo.environment["WIREDESK_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = Int(ProcessInfo.processInfo.environment["WIREDESK_PORT"] ?? "") ?? 8080

    @Option(help: "Largest request body in bytes; bigger ones get 413.")
    var maxBodySize = Int(ProcessInfo.processInfo.environment["WIREDESK_MAX_BODY_BYTES"] ?? "") ?? 1 << 20

    @Option(help: "Database connections in the pool.")
    var connections = Int(ProcessInfo.processInfo.environment["WIREDESK_DB_CONNECTIONS"] ?? "") ?? 20

    @Option(help: "Seconds a request waits for a database connection before it is answered 503.")
    var dbTimeout = Double(ProcessInfo.processInfo.environment["WIREDESK_DB_TIMEOUT"] ?? "") ?? 5

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "") ?? .info

    func run() async throws {
        // Run Swift concurrency's jobs on NIO's event loop threads: the server, the database
        // pool and the handlers then share two threads instead of hopping between thread pools.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        var logger = Logger(label: "wiredesk")
        logger.logLevel = logLevel
        do {
            let settings = ServerSettings(
                host: host, port: port, database: try DatabaseURL.fromEnvironment(), maximumConnections: connections,
                maximumBodySize: maxBodySize, databaseTimeout: .milliseconds(Int(dbTimeout * 1000)))
            logger.info("starting", metadata: ["database": "\(settings.database.redacted)"])
            try await buildApplication(settings, logger: logger).runService()
        } catch {
            throw Console.report(error, json: false)
        }
    }
}
