import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import WiredeskCore

/// Options every command that talks to the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .error

    var logger: Logger {
        var logger = Logger(label: "wiredesk")
        logger.logLevel = logLevel
        return logger
    }

    /// Runs `body` with a connection pool to the configured database (as the owner for
    /// `migration`, else as the app role), reporting any error as one line on stderr (JSON with
    /// `--json`) and a non-zero exit.
    func run<T: Sendable>(
        json: Bool = false, migration: Bool = false, _ body: @Sendable (Database, Logger) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        do {
            let url = try migration ? DatabaseURL.migrationFromEnvironment() : DatabaseURL.fromEnvironment()
            try await url.checkReachable(logger: logger)
            let database = Database(url: url, maximumConnections: 4, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { await database.client.run() }
                defer { group.cancelAll() }
                return try await body(database, logger)
            }
        } catch {
            throw Console.report(error, json: json)
        }
    }
}

enum Console {
    static func exitCode(for kind: WiredeskError.Kind) -> Int32 {
        switch kind {
        case .malformed, .validation: 2
        case .notFound: 3
        case .conflict: 4
        case .forbidden, .unauthenticated: 5
        case .invalidTransition, .unmetRequirement, .embargo: 6
        case .unavailable, .throttled: 7
        }
    }

    /// Prints the error as one line on stderr and returns the exit to throw.
    static func report(_ error: any Error, json: Bool) -> ExitCode {
        if let exit = error as? ExitCode { return exit }
        let known = error as? WiredeskError
        if json {
            var object: [String: JSONValue] = [
                "error": .string(known?.kind.rawValue ?? "internal"),
                "message": .string(known?.message ?? "internal error: \(error)"),
            ]
            if let rule = known?.rule { object["rule"] = .string(rule) }
            if let version = known?.currentVersion { object["currentVersion"] = .number(Double(version)) }
            if let fields = known?.fields, !fields.isEmpty {
                object["fields"] = .array(
                    fields.map { .object(["field": .string($0.field), "message": .string($0.message)]) })
            }
            let line =
                (try? JSONCoding.encode(JSONValue.object(object))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            printError(line)
        } else if let known {
            printError("error: \(known)")
        } else {
            printError("error: internal error: \(String(describing: error))")
        }
        return ExitCode(known.map { exitCode(for: $0.kind) } ?? 1)
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let data = try JSONCoding.encode(value, pretty: true)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Reads a JSON document from a file, or stdin for `-`.
    static func readJSON(_ path: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WiredeskError(.notFound, "cannot read \(path)")
        }
        return data
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
