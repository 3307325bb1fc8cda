import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `user role` and `user enable`, as an operator runs them.
@Suite struct AdminCLITests {
    typealias CLI = CLITests.CLI

    /// A migrated database with ada (admin), rita (reporter) and ed (editor).
    static func newsroom(_ body: @Sendable (CLI, UserStore) async throws -> Void) async throws {
        try await TestDatabase.withEmptyDatabase { client, url in
            let wiredesk = CLI(url: url)
            try Self.expectOK(await wiredesk("migrate"))
            for (name, role) in [("ada", "admin"), ("rita", "reporter"), ("ed", "editor")] {
                try Self.expectOK(await wiredesk("user", "add", name, "--role", role))
            }
            // A long wait for a connection, as Newsroom allows: the suites run side by side on a small machine.
            let database = Database(client: client, maximumConnections: 4, acquireTimeout: .seconds(60))
            try await body(wiredesk, UserStore(database: database))
        }
    }

    @Test func userRoleChangesTheRoleOnceAndRecordsWhoAndWhy() async throws {
        try await Self.newsroom { wiredesk, _ in
            let changed = try await wiredesk("user", "role", "rita", "editor", "--as", "ada")
            try Self.expectOK(changed)
            #expect(changed.out == "rita is now editor\n")
            let same = try await wiredesk("user", "role", "rita", "editor", "--as", "ada")
            try Self.expectOK(same)
            #expect(same.out == "rita is already editor; nothing changed\n")
            #expect(try await wiredesk("user", "list").out.contains("rita                 editor"))

            let events = try await Self.events(wiredesk).filter { $0["action"] as? String == "user.role" }
            #expect(events.count == 1)
            #expect(events.first?["actor"] as? String == "ada")
            #expect(events.first?["subject"] as? String == "rita")
            #expect(events.first?["reason"] as? String == "reporter → editor")
            let audit = try await wiredesk("audit")
            #expect(audit.out.contains("user.role       ada (admin, cli)  [rita]\n      reason: reporter → editor"))
        }
    }

    @Test func userRoleRefusalsAreOneLine() async throws {
        try await Self.newsroom { wiredesk, _ in
            let cases: [([String], Int32, String)] = [
                (["user", "role", "rita", "admin", "--as", "ed"], 5, "ed is editor; only admin may manage users and tokens [rule admin.role]"),
                (["user", "role", "nobody", "editor", "--as", "ada"], 3, "no user named nobody"),
                (["user", "enable", "nobody"], 3, "no user named nobody"),
                (["user", "enable", "rita", "--as", "rita"], 5, "[rule admin.role]"),
            ]
            for (arguments, status, message) in cases {
                try Self.expectOneLineError(try await wiredesk.run(arguments), status: status, message)
            }
            #expect(try await Self.events(wiredesk).allSatisfy { $0["action"] as? String == "user.add" })
        }
    }

    @Test func userEnableLetsADisabledUserActAgain() async throws {
        try await Self.newsroom { wiredesk, users in
            let token = try await wiredesk("token", "create", "rita", "--as", "ada").out.trimmingCharacters(in: .newlines)
            try Self.expectOK(await wiredesk("user", "disable", "rita", "--as", "ada"))
            try Self.expectOneLineError(try await wiredesk("story", "list", "--as", "rita"), status: 5, "user rita is disabled")
            await #expect(throws: WiredeskError.self) {
                try await users.authenticate(token: token, source: .api, logger: TestDatabase.logger)
            }

            let enabled = try await wiredesk("user", "enable", "rita", "--as", "ada")
            try Self.expectOK(enabled)
            #expect(enabled.out == "enabled rita\n")
            try Self.expectOK(await wiredesk("story", "list", "--as", "rita"))
            #expect(try await users.authenticate(token: token, source: .api, logger: TestDatabase.logger).name == "rita")
            #expect(try await wiredesk("user", "enable", "rita").out == "rita is already enabled; nothing changed\n")

            let actions = try await Self.events(wiredesk).filter { $0["subject"] as? String == "rita" }.map { $0["action"] as? String }
            #expect(actions == ["user.add", "user.disable", "user.enable"])
        }
    }

    // MARK: Helpers

    static func events(_ wiredesk: CLI) async throws -> [[String: Any]] {
        let audit = try await wiredesk("audit", "--json")
        try Self.expectOK(audit)
        let page = try #require(try JSONSerialization.jsonObject(with: Data(audit.out.utf8)) as? [String: Any])
        // Newest first; oldest first here.
        return try #require(page["events"] as? [[String: Any]]).reversed()
    }

    static func expectOK(_ result: CLITests.Result, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(result.status == 0, "\(result.err)", sourceLocation: sourceLocation)
    }

    static func expectOneLineError(
        _ result: CLITests.Result, status: Int32, _ message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(result.status == status, "\(result.err)", sourceLocation: sourceLocation)
        #expect(result.err.hasPrefix("error: "), "\(result.err)", sourceLocation: sourceLocation)
        #expect(result.err.contains(message), "\(result.err)", sourceLocation: sourceLocation)
        #expect(result.err.split(separator: "\n").count == 1, "\(result.err)", sourceLocation: sourceLocation)
        #expect(result.out.isEmpty, "\(result.out)", sourceLocation: sourceLocation)
    }
}
