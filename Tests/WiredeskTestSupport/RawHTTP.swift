import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP over a plain socket, byte by byte as a client sends it: for what a client library would
/// tidy away (a path spelt `//v1`, a header sent halfway, a body that never comes). Unchecked
/// Sendable: a socket belongs to one test, which waits for its answers on a thread of their own.
public final class RawHTTP: @unchecked Sendable {
    public let fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // No close here: an initializer that throws once every property is set still runs
        // deinit, which closes the socket; closing it here too closed the number twice, and the
        // second close could hit a socket NIO had just opened under it (a crash in getsockname,
        // EBADF, while ServerProcess polled for a server to listen).
        guard result == 0 else { throw TestSetupError("cannot connect to 127.0.0.1:\(port)") }
    }

    deinit { close(fd) }

    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestSetupError("send failed") }
            offset += sent
        }
    }

    /// Waits at most `timeout` for the next bytes; nil when none came in time, empty when the
    /// server closed the connection.
    public func receive(timeout: Duration) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count <= 0 ? [] : Array(buffer[..<count])
    }

    /// One response's head (and as much of its body as came with it), or nil if none came in time.
    /// Waited for on a thread of its own, not a task thread: the server answering may be in this
    /// process and need those threads.
    public func response(timeout: Duration = .seconds(5)) async -> String? {
        (try? await onOwnThread { self.waitForResponse(timeout: timeout) }) ?? nil
    }

    private func waitForResponse(timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        while ContinuousClock.now < deadline {
            guard let bytes = receive(timeout: deadline - ContinuousClock.now) else { return nil }
            if bytes.isEmpty { break }
            received += bytes
            if let text = String(validating: received, as: UTF8.self), text.contains("\r\n\r\n") {
                let head = text.components(separatedBy: "\r\n\r\n")[0]
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count >= head.utf8.count + 4 + length { return text }
            }
        }
        return received.isEmpty ? nil : String(decoding: received, as: UTF8.self)
    }

    /// Whether the server has closed the connection within `timeout`.
    public func closedByServer(within timeout: Duration) async -> Bool {
        (try? await onOwnThread { self.waitForClose(within: timeout) }) ?? false
    }

    private func waitForClose(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let bytes = receive(timeout: deadline - ContinuousClock.now) else { return false }
            if bytes.isEmpty { return true }
        }
        return false
    }

    /// A port no one is listening on, for a server to take.
    public static func freePort() throws -> Int {
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

    /// Waits until something listens on `port`.
    public static func waitUntilListening(_ port: Int) async throws {
        for _ in 0..<200 {
            if (try? RawHTTP(port: port)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("nothing started listening on \(port)")
    }
}
