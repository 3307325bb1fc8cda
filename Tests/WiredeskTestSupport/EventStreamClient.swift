import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A Server-Sent Events client over a plain socket, as a browser's EventSource reads a stream:
/// the response head, then the chunked body cut into events at blank lines. Blocking; call it
/// from `onOwnThread`.
public final class EventStreamClient: @unchecked Sendable {
    public struct Event: Equatable, Sendable {
        public var id: String?
        public var data: String
        /// A comment line (`: heartbeat`) rather than an event.
        public var comment: String?
        /// The event's type (`event: story`), if it has one.
        public var name: String? = nil
    }

    private let http: RawHTTP
    /// The response head, once read.
    public private(set) var head = ""
    private var raw: [UInt8] = []
    private var body: [UInt8] = []
    /// The connection closed, or the body's last chunk came.
    public private(set) var ended = false
    /// The body's last chunk (size 0) came: the server ended the stream cleanly.
    public private(set) var finished = false

    /// Connects to `port` and asks for `path` with `headers` (lines without CRLF).
    public init(port: Int, path: String, headers: [String]) throws {
        http = try RawHTTP(port: port)
        let lines = ["GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"] + headers
        try http.send(lines.joined(separator: "\r\n") + "\r\n\r\n")
    }

    /// Hangs up, as a client that goes away does.
    public func close() {
        shutdown(http.fd, Int32(SHUT_RDWR))
    }

    /// Reads the response head; returns its status.
    public func status(timeout: Duration = .seconds(10)) throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let end = raw.firstRange(of: Array("\r\n\r\n".utf8)) {
                head = String(decoding: raw[..<end.lowerBound], as: UTF8.self)
                raw.removeSubrange(..<end.upperBound)
                let parts = head.split(separator: " ", maxSplits: 2)
                guard parts.count >= 2, let status = Int(parts[1]) else { throw TestSetupError("not HTTP: \(head)") }
                return status
            }
            try fill(until: deadline)
        }
    }

    /// The next event or comment, or nil when the stream ended (or nothing came in `timeout`:
    /// see `ended`).
    public func next(timeout: Duration = .seconds(10)) throws -> Event? {
        let deadline = ContinuousClock.now + timeout
        while true {
            decodeChunks()
            if let end = body.firstRange(of: Array("\n\n".utf8)) {
                let text = String(decoding: body[..<end.lowerBound], as: UTF8.self)
                body.removeSubrange(..<end.upperBound)
                var event = Event(id: nil, data: "", comment: nil)
                var data: [String] = []
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") { event.comment = line.dropFirst().trimmingCharacters(in: .whitespaces) }
                    if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
                }
                event.data = data.joined(separator: "\n")
                return event
            }
            if ended { return nil }
            do {
                try fill(until: deadline)
            } catch is Timeout {
                return nil
            }
        }
    }

    /// The next event with data (as EventSource dispatches them: not a comment, not a `retry:`).
    public func nextEvent(timeout: Duration = .seconds(10)) throws -> Event? {
        let deadline = ContinuousClock.now + timeout
        while let event = try next(timeout: deadline - ContinuousClock.now) {
            if event.comment == nil && !event.data.isEmpty { return event }
        }
        return nil
    }

    private struct Timeout: Error {}

    private func fill(until deadline: ContinuousClock.Instant) throws {
        let left = deadline - ContinuousClock.now
        guard left > .zero, let bytes = http.receive(timeout: left) else { throw Timeout() }
        if bytes.isEmpty {
            ended = true
            if head.isEmpty { throw TestSetupError("the server closed the connection before answering") }
            return
        }
        raw += bytes
    }

    /// Moves whole chunks from `raw` into `body`.
    private func decodeChunks() {
        while let lineEnd = raw.firstRange(of: Array("\r\n".utf8)) {
            let sizeText = String(decoding: raw[..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText, radix: 16) else { return }
            if size == 0 {
                (ended, finished) = (true, true)
                raw.removeAll()
                return
            }
            guard raw.count >= lineEnd.upperBound + size + 2 else { return }
            body += raw[lineEnd.upperBound..<(lineEnd.upperBound + size)]
            raw.removeSubrange(..<(lineEnd.upperBound + size + 2))
        }
    }
}
