import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `wiredesk serve` as a process, spoken to over plain sockets: it stops on SIGTERM, and a request
/// already in flight still gets its answer; a stuck one does not keep it alive; slow, idle and
/// anonymous clients get no more than their due.
@Suite struct ServeTests {
    @Test func sigtermLetsTheRequestInFlightFinish() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(for: "rita", by: newsroom.admin, logger: newsroom.logger)
            let server = try await ServerProcess(newsroom)
            defer { server.stop() }

            let body = Array(try TestDatabase.fixture("almaty.json"))
            let socket = try RawHTTP(port: server.port)
            // A first answer on the same connection shows the server has taken it up, so that
            // SIGTERM finds a request in flight rather than a connection still in the backlog.
            try socket.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(await socket.response()?.hasPrefix("HTTP/1.1 200") == true)
            let head =
                "POST /v1/stories HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            try socket.send(Array(head.utf8) + body[..<1000])
            try await Task.sleep(for: .milliseconds(300))

            server.signal(SIGTERM)
            try await Task.sleep(for: .milliseconds(300))
            try socket.send(Array(body[1000...]))
            let response = await socket.response(timeout: .seconds(10)) ?? ""
            #expect(response.hasPrefix("HTTP/1.1 201"), "\(response.prefix(200))")

            #expect(await server.exited(within: .seconds(10)))
            #expect(server.process.terminationStatus == 0)
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 1)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'create'") == 1)
        }
    }

}

extension ServeTests {
    @Test func sigtermEndsTheServerWithinItsDeadlineEvenWithARequestStuck() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(for: "rita", by: newsroom.admin, logger: newsroom.logger)
            let server = try await ServerProcess(newsroom, ["--shutdown-deadline", "2"])
            defer { server.stop() }
            // A request whose body never comes: the server waits for it (up to the body timeout,
            // a minute by default) and so would never finish shutting down on its own.
            let socket = try RawHTTP(port: server.port)
            try socket.send(
                "POST /v1/stories HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"headline\": ")
            // Signalled only once the server is handling it: on a loaded machine half a second
            // was sometimes too little for the request to arrive, and the server stopped cleanly.
            try await eventually(within: .seconds(30), "the POST in flight") {
                try await server.activeRequests("POST") == 1
            }
            let signalled = ContinuousClock.now
            server.signal(SIGTERM)
            #expect(await server.exited(within: .seconds(30)))
            // Two seconds and the time a loaded machine takes to notice; the body timeout (a
            // minute) would have kept it alive, and without a deadline nothing ended it at all.
            let took = ContinuousClock.now - signalled
            #expect(took < .seconds(20), "SIGTERM took \(took) to end the server")
            #expect(server.process.terminationStatus == 1)
            #expect(server.log.contains("shutdown took longer than its deadline"))
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 0)
        }
    }

    @Test func anonymousUploadsAreRefusedBeforeTheirBodyIsRead() async throws {
        try await Newsroom.with { newsroom in
            let server = try await ServerProcess(newsroom)
            defer { server.stop() }
            for path in ["/v1/stories", "/v1/ingest"] {
                let socket = try RawHTTP(port: server.port)
                // A megabyte announced, a hundred bytes sent: the answer must not wait for the rest.
                try socket.send(
                    "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1048576\r\n\r\n" + String(repeating: "x", count: 100))
                let response = await socket.response(timeout: .seconds(3)) ?? "no answer"
                #expect(response.hasPrefix("HTTP/1.1 401"), "\(path): \(response.prefix(200))")
            }
        }
    }

    @Test func pathTricksNeverReachAHandlerUnauthenticated() async throws {
        try await Newsroom.with { newsroom in
            _ = try await newsroom.story()
            let server = try await ServerProcess(newsroom)
            defer { server.stop() }
            for path in [
                "//v1/stories", "/v1//stories", "/v1/../v1/stories", "/./v1/stories", "/v1%2Fstories", "/v1%2fstories",
                "/V1/stories", "/v1/stories/", "/health/../v1/stories", "//health/../v1/stories",
                // The desk signs its own users in: no path through it reaches the API unchecked.
                "/desk/../v1/stories", "/desk/%2e%2e/v1/stories", "/desk//v1/stories", "/desk/./../v1/stories",
            ] {
                let socket = try RawHTTP(port: server.port)
                try socket.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                let response = await socket.response() ?? "no answer"
                #expect(response.hasPrefix("HTTP/1.1 401"), "\(path): \(response.prefix(120))")
                #expect(!response.contains("kazakhstan"), "\(path) leaked a story")
            }
            // The public routes stay public, spelt exactly.
            let socket = try RawHTTP(port: server.port)
            try socket.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(await socket.response()?.hasPrefix("HTTP/1.1 200") == true)
        }
    }

    @Test func slowClientsAreCutOffAndAtTheCapTheStalledGoFirst() async throws {
        try await Newsroom.with { newsroom in
            let server = try await ServerProcess(
                newsroom, ["--max-clients", "20", "--header-timeout", "2", "--idle-timeout", "2"])
            defer { server.stop() }
            // Forty clients start a request header and stall: twice the cap.
            var stalled: [RawHTTP] = []
            for _ in 0..<40 {
                let socket = try RawHTTP(port: server.port)
                try socket.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                stalled.append(socket)
            }
            // Within a second, well before the two-second header timeout: the cap makes room by
            // closing the stalled, however busy the machine (300 ms was not, under the full suite).
            let deadline = ContinuousClock.now + .seconds(1)
            while server.openSockets() > 20 + 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(server.openSockets() <= 20 + 1, "the server holds \(server.openSockets()) sockets")
            // A normal client is still answered, well before the stalled clients' header timeout
            // would have made room (1 s was at times 1.1 s under the whole suite on two cores).
            let started = ContinuousClock.now
            let client = try RawHTTP(port: server.port)
            try client.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(await client.response(timeout: .milliseconds(1500))?.hasPrefix("HTTP/1.1 200") == true)
            #expect(ContinuousClock.now - started < .milliseconds(1500))
            // The stalled ones that were not already closed to make room are closed at the header
            // timeout; the kept-alive client at the idle timeout.
            for socket in stalled { #expect(await socket.closedByServer(within: .seconds(5))) }
            #expect(await client.closedByServer(within: .seconds(5)))
            #expect(server.openSockets() <= 1, "the server still holds \(server.openSockets()) sockets")
        }
    }

    @Test func jsonLogsOneLinePerRequestAndNeverItsSecrets() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(for: "ed", by: newsroom.admin, logger: newsroom.logger)
            let story = try await newsroom.story()
            let server = try await ServerProcess(newsroom, ["--log-format", "json", "--log-level", "info"])
            defer { server.stop() }
            let socket = try RawHTTP(port: server.port)
            try socket.send(
                "GET /v1/stories/\(story.id.uuidString.lowercased()) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer \(token)\r\nX-Request-Id: desk-7\r\nConnection: close\r\n\r\n")
            #expect(await socket.response()?.hasPrefix("HTTP/1.1 200") == true)
            server.signal(SIGTERM)
            #expect(await server.exited(within: .seconds(10)))
            let lines = server.log.split(separator: "\n")
            let objects = try lines.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            }
            let access = try #require(objects.first { $0["message"] == "request" && $0["request.id"] == "desk-7" })
            #expect(access["user"] == "ed")
            #expect(access["method"] == "GET")
            #expect(access["route"] == "/v1/stories/{id}")
            #expect(access["status"] == "200")
            #expect(Double(access["duration_ms"] ?? "") != nil)
            #expect(Int(access["bytes"] ?? "") ?? 0 > 1000)
            #expect(!server.log.contains(token))
            #expect(!server.log.contains("ALMATY"))
        }
    }

    /// Each server keeps the tokens it verified for half a second; a revocation made anywhere
    /// holds on every one within a second.
    @Test func aRevokedTokenIsRefusedByEveryServerWithinASecond() async throws {
        try await Newsroom.with { newsroom in
            let (token, info) = try await newsroom.users.createToken(for: "ed", by: newsroom.admin, logger: newsroom.logger)
            let servers = [try await ServerProcess(newsroom), try await ServerProcess(newsroom)]
            defer { servers.forEach { $0.stop() } }
            func status(_ server: ServerProcess) async throws -> String? {
                let socket = try RawHTTP(port: server.port)
                try socket.send(
                    "GET /v1/stories HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                        + "Connection: close\r\n\r\n")
                return await socket.response().map { String($0.prefix(12)) }
            }
            for server in servers + servers {
                #expect(try await status(server) == "HTTP/1.1 200")
            }
            _ = try await newsroom.users.revokeToken(info.id, by: newsroom.admin, logger: newsroom.logger)
            let revoked = ContinuousClock.now
            for server in servers {
                try await eventually(since: revoked, "the revocation on the server on \(server.port)") {
                    try await status(server) == "HTTP/1.1 401"
                }
            }
        }
    }
}

extension ServeTests {
    /// A stream on one server carries what another server publishes, and ends cleanly when its
    /// server is told to stop, so that its client resumes elsewhere.
    @Test func aFeedStreamCarriesEntriesFromEveryServerAndEndsCleanlyOnSigterm() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(for: "partner", by: newsroom.admin, logger: newsroom.logger)
            let (publisher, follower) = (try await ServerProcess(newsroom), try await ServerProcess(newsroom))
            defer { [publisher, follower].forEach { $0.stop() } }
            let stream = try EventStreamClient(
                port: follower.port, path: "/v1/feed/stream", headers: ["Authorization: Bearer \(token)"])
            #expect(try await onOwnThread { try stream.status() } == 200)

            let (editorToken, _) = try await newsroom.users.createToken(for: "pat", by: newsroom.admin, logger: newsroom.logger)
            let story = try await newsroom.story(through: [.submit, .approve])
            let socket = try RawHTTP(port: publisher.port)
            try socket.send(
                "POST /v1/stories/\(story.id)/transitions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(editorToken)\r\n"
                    + "If-Match: \"3\"\r\nContent-Type: application/json\r\nContent-Length: 24\r\nConnection: close\r\n\r\n"
                    + #"{"transition":"publish"}"#)
            #expect(await socket.response()?.hasPrefix("HTTP/1.1 200") == true)
            let event = try await onOwnThread { try stream.nextEvent(timeout: .seconds(60)) }
            #expect(event?.data.contains("urn:wiredesk:story:\(story.id.uuidString.lowercased())") == true)

            let signalled = ContinuousClock.now
            follower.signal(SIGTERM)
            _ = try await onOwnThread { while try stream.next(timeout: .seconds(20)) != nil {} }
            #expect(stream.finished, "the stream was cut rather than ended")
            #expect(await follower.exited(within: .seconds(20)))
            #expect(ContinuousClock.now - signalled < .seconds(15), "a stream held the server up")
            #expect(follower.process.terminationStatus == 0)
        }
    }
}

/// `wiredesk serve` on a free port over a newsroom's database, its log kept.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let logFile: URL

    init(_ newsroom: Newsroom, _ arguments: [String] = []) async throws {
        port = try RawHTTP.freePort()
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("wiredesk-serve-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = CLITests.CLI.executable
        process.arguments = ["serve", "--port", "\(port)", "--log-level", "error"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = newsroom.url.connectionString
        process.environment = environment
        let log = try FileHandle(forWritingTo: logFile)
        process.standardError = log
        process.standardOutput = log
        try process.run()
        try await RawHTTP.waitUntilListening(port)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// The requests of `method` the server is handling now, as its /metrics counts them.
    func activeRequests(_ method: String) async throws -> Int {
        let socket = try RawHTTP(port: port)
        try socket.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let metrics = await socket.response() ?? ""
        let gauge = "http_server_active_requests{http_request_method=\"\(method)\"} "
        let value = metrics.split(separator: "\n").first { $0.hasPrefix(gauge) }.flatMap { Double($0.dropFirst(gauge.count)) }
        return Int(value ?? 0)
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    func exited(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !process.isRunning
    }

    /// The HTTP sockets the server holds open: its listener and its clients' connections (not
    /// its database sessions).
    func openSockets() -> Int {
        let folder = "/proc/\(process.processIdentifier)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let held = Set(entries.compactMap { entry -> String? in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(entry)")) ?? ""
            guard target.hasPrefix("socket:[") else { return nil }
            return String(target.dropFirst("socket:[".count).dropLast())
        })
        // /proc/net/tcp: "sl local_address rem_address st ... uid timeout inode"; addresses in hex.
        let table = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/net/tcp", encoding: .utf8)) ?? ""
        let port = String(format: "%04X", self.port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 9 && fields[1].hasSuffix(":\(port)") && held.contains(String(fields[9]))
        }.count
    }

    /// Asks the server to stop and reaps it on a thread of its own: a test waiting here for a
    /// server to wind down would hold one of the process's few task threads.
    func stop() {
        if process.isRunning { process.terminate() }
        Thread.detachNewThread {
            self.process.waitUntilExit()
            try? FileManager.default.removeItem(at: self.logFile)
        }
    }
}
