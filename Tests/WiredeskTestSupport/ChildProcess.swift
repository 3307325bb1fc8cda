import Foundation

/// A program the tests run (the `wiredesk` binary, the ninjs validator) and what it printed.
public struct ChildProcess: Sendable {
    public var status: Int32
    public var out: String
    public var err: String

    /// Runs the program to its end, `stdin` as its input, on a thread of its own: a test waiting
    /// for a child on one of the process's few task threads holds up every other test, and two
    /// such waits froze them all, the servers and webhook workers of other tests included.
    /// As many run at once as the machine has cores; the others wait without holding a thread.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil
    ) async throws -> ChildProcess {
        await running.enter()
        defer { running.leave() }
        return try await onOwnThread {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            if let environment { process.environment = environment }
            let out = Pipe()
            let err = Pipe()
            let input = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = input
            try process.run()
            if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
            try input.fileHandleForWriting.close()
            let outData = out.fileHandleForReading.readAll()
            let errData = err.fileHandleForReading.readAll()
            process.waitUntilExit()
            return ChildProcess(
                status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                err: String(decoding: errData, as: UTF8.self))
        }
    }
}

/// Children running at once: more than the cores, and a debug build of `wiredesk` takes longer
/// than its five seconds to log in to the database (SCRAM) under the full suite.
private let running = Gate(width: ProcessInfo.processInfo.activeProcessorCount)
