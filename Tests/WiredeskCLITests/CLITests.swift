import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Runs the `wiredesk` executable as a user would: the README walkthrough, and its errors.
@Suite struct CLITests {
    typealias Result = ChildProcess

    struct CLI {
        var url: DatabaseURL

        static let executable: URL = {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                Bundle.main.bundleURL.deletingLastPathComponent(),
                Bundle.main.bundleURL,
            ]
            for folder in candidates {
                var url = folder
                // Inside an .xctest bundle on some platforms; step out until the build folder.
                for _ in 0..<4 {
                    let binary = url.appendingPathComponent("wiredesk")
                    if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
                    url.deleteLastPathComponent()
                }
            }
            return candidates[0].appendingPathComponent("wiredesk")
        }()

        @discardableResult
        func callAsFunction(_ arguments: String..., stdin: String? = nil) async throws -> Result {
            try await run(arguments, stdin: stdin)
        }

        func run(_ arguments: [String], stdin: String? = nil) async throws -> Result {
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = try TestDatabase.appURL(url).connectionString
            environment["WIREDESK_MIGRATION_URL"] = try TestDatabase.ownerURL(url).connectionString
            environment["WIREDESK_MIGRATIONS"] = TestDatabase.migrationsDirectory.path
            return try await ChildProcess.run(Self.executable, arguments, environment: environment, stdin: stdin)
        }
    }

    @Test func readmeWalkthroughTakesAlmatyFromDraftToPublished() async throws {
        try await TestDatabase.withEmptyDatabase { _, url in
            let wiredesk = CLI(url: url)
            let migrate = try await wiredesk("migrate")
            #expect(migrate.status == 0, "\(migrate.err)")
            #expect(migrate.out.contains("applied 0001_init.sql"))
            #expect(try await wiredesk("migrate").out.contains("schema is up to date"))
            #expect(try await wiredesk("migrate", "--status").out.contains("0001_init.sql  applied"))

            for (name, role) in [("ada", "admin"), ("rita", "reporter"), ("ed", "editor"), ("pubbot", "publisher")] {
                let added = try await wiredesk("user", "add", name, "--role", role)
                #expect(added.status == 0, "\(added.err)")
            }
            let token = try await wiredesk("token", "create", "pubbot", "--as", "ada")
            #expect(token.out.hasPrefix("wd_"))
            #expect(token.err.contains("will not be shown again"))

            let fixture = TestDatabase.fixturesDirectory.appendingPathComponent("almaty.json").path
            let created = try await wiredesk("story", "create", "--file", fixture, "--as", "rita", "--json")
            #expect(created.status == 0, "\(created.err)")
            let story = try JSONSerialization.jsonObject(with: Data(created.out.utf8)) as! [String: Any]
            let id = story["id"] as! String
            #expect(story["state"] as? String == "draft")
            #expect((story["dateline"] as? [String: String])?["place"] == "ALMATY")
            #expect(story["source"] as? String == "Reuters")
            let picture = (story["pictures"] as? [[String: Any]])?.first
            #expect(picture?["creditline"] as? String == "Interior Ministry of Kazakhstan/ via REUTERS")

            let shown = try await wiredesk("story", "show", id, "--as", "ed")
            #expect(shown.out.contains("dateline   ALMATY, 2022-01-07"))
            #expect(shown.out.contains("## ATTACK ON OUR CITIZENS"))
            #expect(shown.out.contains("credit: Interior Ministry of Kazakhstan/ via REUTERS"))

            try expectOK(await wiredesk("story", "transition", id, "submit", "--as", "rita", "--if-version", "1"))
            try expectOK(
                await wiredesk(
                    "story", "transition", id, "request_changes", "--reason", "Add the Tengiz output figure", "--as",
                    "ed",
                    "--if-version", "2"))
            try expectOK(
                await wiredesk(
                    "story", "edit", id, "--file", "-", "--as", "rita", "--if-version", "3",
                    stdin: #"{"standfirst": "Oil output at Tengiz cut as Russian troops arrive"}"#))
            try expectOK(await wiredesk("story", "transition", id, "submit", "--as", "rita", "--if-version", "4"))
            try expectOK(await wiredesk("story", "transition", id, "approve", "--as", "ed", "--if-version", "5"))
            let published = try await wiredesk("story", "transition", id, "publish", "--as", "pubbot", "--if-version", "6")
            try expectOK(published)
            #expect(published.out.contains("state      published, version 7"))

            let history = try await wiredesk("story", "history", id, "--as", "ed")
            try expectOK(history)
            let lines = history.out.split(separator: "\n").filter { !$0.hasPrefix(" ") }
            let steps = lines.map { line in line.split(separator: " ", omittingEmptySubsequences: true)[3] }
            #expect(steps == ["create", "submit", "request_changes", "edit", "submit", "approve", "publish"])
            #expect(history.out.contains("request_changes ed (editor, cli)  in_review → draft"))
            #expect(history.out.contains("reason: Add the Tengiz output figure"))
            #expect(history.out.contains("changed: standfirst"))
            #expect(history.out.contains("publish         pubbot (publisher, cli)  approved → published"))

            let json = try await wiredesk("story", "history", id, "--as", "ed", "--json")
            let events = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as! [[String: Any]]
            #expect(events.count == 7)
            #expect(events.allSatisfy { $0["source"] as? String == "cli" && $0["storyId"] as? String == id })

            let list = try await wiredesk("story", "list", "--state", "published", "--as", "ed")
            #expect(list.out.contains(id))
            #expect(try await wiredesk("story", "list", "--state", "draft", "--as", "ed").out.isEmpty)
        }
    }

    @Test func errorsAreOneLineOnStderrWithDistinctExitCodes() async throws {
        try await TestDatabase.withEmptyDatabase { _, url in
            let wiredesk = CLI(url: url)
            try expectOK(await wiredesk("migrate"))
            try expectOK(await wiredesk("user", "add", "rita", "--role", "reporter"))
            try expectOK(await wiredesk("user", "add", "ed", "--role", "editor"))
            let fixture = TestDatabase.fixturesDirectory.appendingPathComponent("almaty.json").path
            let created = try await wiredesk("story", "create", "--file", fixture, "--as", "rita", "--json")
            let id = (try JSONSerialization.jsonObject(with: Data(created.out.utf8)) as! [String: Any])["id"] as! String

            let cases: [([String], String?, Int32, String)] = [
                (
                    ["story", "transition", id, "approve", "--as", "rita", "--if-version", "1"], nil, 5,
                    "[rule approve.role]"
                ),
                (
                    ["story", "transition", id, "publish", "--as", "ed", "--if-version", "1"], nil, 6,
                    "[rule publish.state]"
                ),
                (
                    ["story", "transition", id, "submit", "--as", "rita", "--if-version", "9"], nil, 4,
                    "story is at version 1"
                ),
                (["story", "show", "not-a-uuid", "--as", "rita"], nil, 2, "not a UUID"),
                (["story", "show", UUID().uuidString, "--as", "rita"], nil, 3, "not found"),
                (["story", "show", id, "--as", "nobody"], nil, 3, "no user named nobody"),
                (
                    ["story", "edit", id, "--file", "-", "--as", "rita", "--if-version", "1"], #"{"headLine": "x"}"#, 2,
                    "headLine: unknown field"
                ),
                (
                    ["story", "edit", id, "--file", "-", "--as", "rita", "--if-version", "1"], #"{"headline": "#, 2,
                    "malformed JSON"
                ),
                (
                    ["story", "create", "--file", "/no/such/file.json", "--as", "rita"], nil, 3,
                    "cannot read /no/such/file.json"
                ),
                (["user", "add", "Bad Name", "--role", "editor"], nil, 2, "user names are"),
            ]
            for (arguments, stdin, status, message) in cases {
                let result = try await wiredesk.run(arguments, stdin: stdin)
                #expect(result.status == status, "\(arguments): \(result.err)")
                #expect(result.err.contains(message), "\(arguments): \(result.err)")
                #expect(result.err.hasPrefix("error: "), "\(arguments)")
                #expect(result.err.split(separator: "\n").count == 1, "\(arguments): \(result.err)")
                #expect(result.out.isEmpty, "\(arguments)")
            }

            let json = try await wiredesk("story", "transition", id, "approve", "--as", "rita", "--if-version", "1", "--json")
            let problem = try JSONSerialization.jsonObject(with: Data(json.err.utf8)) as! [String: Any]
            #expect(problem["error"] as? String == "forbidden")
            #expect(problem["rule"] as? String == "approve.role")

            let history = try await wiredesk("story", "history", id, "--as", "rita", "--json")
            #expect((try JSONSerialization.jsonObject(with: Data(history.out.utf8)) as! [Any]).count == 1)
        }
    }

    @Test func auditorsQueryExportVerifyAndAnchorTheTrail() async throws {
        try await Newsroom.with { newsroom in
            let wiredesk = CLI(url: newsroom.url)
            _ = try await newsroom.story(through: [.submit, .approve])
            let count = try await newsroom.count("SELECT count(*) FROM audit_events")

            let all = try await wiredesk("audit", "--json")
            try expectOK(all)
            let everything = try JSONSerialization.jsonObject(with: Data(all.out.utf8)) as! [String: Any]
            #expect((everything["events"] as! [Any]).count == count)
            let approvals = try await wiredesk("audit", "log", "--action", "approve", "--actor", "ed", "--json")
            let page = try JSONSerialization.jsonObject(with: Data(approvals.out.utf8)) as! [String: Any]
            #expect((page["events"] as! [Any]).count == 1)
            let csv = try await wiredesk("audit", "export", "--format", "csv", "--story", "\(try await newsroom.story().id)")
            #expect(csv.out.split(separator: "\r\n").count == 2, "header and the create event")
            #expect(try await wiredesk("audit", "log", "--since", "yesterday").status == 2)

            // Sealing waits for older transactions anywhere on the server (other tests) to end.
            while try await AuditChain.verify(database: newsroom.database, logger: newsroom.logger).unsealed > 0 {
                try await AuditChain.seal(database: newsroom.database, logger: newsroom.logger)
                try await Task.sleep(for: .milliseconds(50))
            }
            let anchor = try await wiredesk("audit", "anchor")
            try expectOK(anchor)
            let head = anchor.out.trimmingCharacters(in: .whitespacesAndNewlines)
            let verified = try await wiredesk("audit", "verify", "--anchor", head)
            try expectOK(verified)
            #expect(verified.out.contains("the anchor matches"))

            try await TestDatabase.withClient(try TestDatabase.ownerURL(newsroom.url), maximumConnections: 1) { client in
                try await client.withConnection { connection in
                    try await connection.query("SET session_replication_role = replica", logger: TestDatabase.logger)
                    try await connection.query(
                        "UPDATE audit_events SET reason = 'forged' WHERE action = 'approve'", logger: TestDatabase.logger)
                }
            }
            let broken = try await wiredesk("audit", "verify")
            #expect(broken.status == 4)
            #expect(broken.err.contains("changed after it was sealed"))
        }
    }

    @Test func anUnreachableDatabaseIsReportedClearly() async throws {
        var url = try TestDatabase.serverURL
        url.port = 1
        let result = try await CLI(url: url)("user", "list")
        #expect(result.status == 7)
        #expect(result.err.contains("cannot reach the database at postgres://wiredesk_app@127.0.0.1:1/"))
    }

    private func expectOK(_ result: Result, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(result.status == 0, "\(result.err)", sourceLocation: sourceLocation)
    }
}
