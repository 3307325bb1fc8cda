import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO
import Synchronization
import Testing
import WiredeskCore
import WiredeskTestSupport

@testable import WiredeskAPI

/// What keeps one request, one lock or one client from holding up the rest.
@Suite struct GuardTests {
    @Test func aRowLockedLongerThanLockTimeoutIsA503AndThePoolKeepsServing() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let locked = Atomic(false)
            let release = Atomic(false)
            // An operator's transaction holds the story's row, as a long script might.
            let holder = Task {
                try await TestDatabase.withClient(api.newsroom.url, maximumConnections: 1) { client in
                    try await client.withTransaction(logger: TestDatabase.logger) { connection in
                        try await connection.query(
                            "SELECT 1 FROM stories WHERE id = \(UUID(uuidString: id)!) FOR UPDATE",
                            logger: TestDatabase.logger)
                        locked.store(true, ordering: .relaxed)
                        while !release.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(20)) }
                    }
                }
            }
            defer { release.store(true, ordering: .relaxed) }
            while !locked.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(20)) }

            let started = ContinuousClock.now
            let patch = try await api.send(
                .patch, "/v1/stories/\(id)", headers: [.ifMatch: "\"1\""], json: #"{"standfirst": "Locked out"}"#)
            #expect(patch.status == .serviceUnavailable)
            #expect(try patch.problem.type == "unavailable")
            #expect(patch.headers[.retryAfter] != nil)
            // lock_timeout is two seconds; without it the write would wait for the holder, who waits
            // for this test: for ever.
            #expect(ContinuousClock.now - started < .seconds(30))
            // Meanwhile reads go on: the pool was not left hanging.
            for _ in 0..<10 {
                #expect(try await api.send(.get, "/v1/stories/\(id)").status == .ok)
            }
            release.store(true, ordering: .relaxed)
            try await holder.value
            // Nothing was half-written, and the write goes through once the lock is gone.
            #expect(try await api.newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'edit'") == 0)
            let retry = try await api.send(
                .patch, "/v1/stories/\(id)", headers: [.ifMatch: "\"1\""], json: #"{"standfirst": "In at last"}"#)
            #expect(retry.status == .ok)
        }
    }

    @Test func readinessAsksTheDatabaseAtMostOnceASecond() async throws {
        let probes = Atomic(0)
        let readiness = Readiness {
            probes.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(50))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { try await readiness.check() } }
            try await group.waitForAll()
        }
        #expect(probes.load(ordering: .relaxed) == 1)
        try await Task.sleep(for: .milliseconds(1100))
        try await readiness.check()
        #expect(probes.load(ordering: .relaxed) == 2)

        struct Down: Error {}
        let failing = Readiness { throw Down() }
        for _ in 0..<3 { await #expect(throws: Down.self) { try await failing.check() } }
    }

    /// Authentication is deny by default: the paths it lets through are exactly the operations
    /// the spec marks `security: []`.
    @Test func thePublicPathsAreTheSpecsPublicOperations() throws {
        let file = TestDatabase.repositoryRoot.appendingPathComponent("Sources/WiredeskAPI/openapi.yaml")
        let spec = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        var publicPaths: Set<String> = []
        var path: String?
        for line in spec.split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            if line.hasPrefix("paths:") == false, !line.hasPrefix(" ") { path = nil }
            if let path, line.trimmingCharacters(in: .whitespaces) == "security: []" { publicPaths.insert(path) }
        }
        #expect(publicPaths == AuthMiddleware<BasicRequestContext>.publicPaths)
    }
}
