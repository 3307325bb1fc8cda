import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `wiredesk serve` as a process: it stops on SIGTERM, and a request already in flight still gets
/// its answer.
@Suite struct ServeTests {
    @Test func sigtermLetsTheRequestInFlightFinish() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(for: "rita", by: newsroom.admin, logger: newsroom.logger)
            let port = try freePort()
            let server = Process()
            server.executableURL = CLITests.CLI.executable
            server.arguments = ["serve", "--port", "\(port)", "--log-level", "error"]
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = newsroom.url.connectionString
            server.environment = environment
            try server.run()
            defer { if server.isRunning { server.terminate() } }
            try await waitUntilListening(port)

            let body = Array(try TestDatabase.fixture("almaty.json"))
            let socket = try connect(port)
            defer { close(socket) }
            // A first answer on the same connection shows the server has taken it up, so that
            // SIGTERM finds a request in flight rather than a connection still in the backlog.
            try sendAll(socket, Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(receiveHead(socket).hasPrefix("HTTP/1.1 200"))
            let head =
                "POST /v1/stories HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            try sendAll(socket, Array(head.utf8) + body[..<1000])
            try await Task.sleep(for: .milliseconds(300))

            kill(server.processIdentifier, SIGTERM)
            try await Task.sleep(for: .milliseconds(300))
            try sendAll(socket, Array(body[1000...]))
            let response = receiveAll(socket)
            #expect(response.hasPrefix("HTTP/1.1 201"), "\(response.prefix(200))")

            for _ in 0..<100 where server.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!server.isRunning)
            #expect(server.terminationStatus == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'create'") == 1)
        }
    }

    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func connect(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw TestSetupError("cannot connect to 127.0.0.1:\(port)")
        }
        return fd
    }

    private func waitUntilListening(_ port: Int) async throws {
        for _ in 0..<100 {
            if let fd = try? connect(port) {
                close(fd)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("the server did not start listening on \(port)")
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestSetupError("send failed") }
            offset += sent
        }
    }

    /// One small answer on a kept-alive connection: its head and a body of `Content-Length` bytes.
    private func receiveHead(_ fd: Int32) -> String {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            received.append(byte)
            guard received.suffix(4) == Array("\r\n\r\n".utf8) else { continue }
            let head = String(decoding: received, as: UTF8.self)
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            var body = [UInt8](repeating: 0, count: length)
            var read = 0
            while read < length {
                let count = body[read...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                read += count
            }
            return head
        }
        return String(decoding: received, as: UTF8.self)
    }

    private func receiveAll(_ fd: Int32) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
