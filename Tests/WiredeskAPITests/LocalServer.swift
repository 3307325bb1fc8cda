import Hummingbird
import Logging
import WiredeskTestSupport

/// A partner's server for a test (a webhook receiver, an agency's feed): `router` on a free port
/// of loopback while `body` runs, given the port.
enum LocalServer {
    static func run<T: Sendable>(
        _ router: Router<BasicRequestContext>, label: String, _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: label)
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestSetupError("the \(label) did not start") }
            return try await body(port)
        }
    }
}
