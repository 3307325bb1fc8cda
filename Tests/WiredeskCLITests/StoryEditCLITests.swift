import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `story edit --reason`, on the Almaty story.
@Suite struct StoryEditCLITests {
    typealias CLI = CLITests.CLI

    static let standfirst = #"{"standfirst": "Oil output at Tengiz cut as Russian troops arrive"}"#

    /// A migrated database with rita (reporter) and ed (editor), and the Almaty story as rita's draft.
    static func almaty(_ body: @Sendable (CLI, String) async throws -> Void) async throws {
        try await TestDatabase.withEmptyDatabase { _, url in
            let wiredesk = CLI(url: url)
            #expect(try await wiredesk("migrate").status == 0)
            #expect(try await wiredesk("user", "add", "rita", "--role", "reporter").status == 0)
            #expect(try await wiredesk("user", "add", "ed", "--role", "editor").status == 0)
            let fixture = TestDatabase.fixturesDirectory.appendingPathComponent("almaty.json").path
            let created = try await wiredesk("story", "create", "--file", fixture, "--as", "rita", "--json")
            #expect(created.status == 0, "\(created.err)")
            let story = try #require(try JSONSerialization.jsonObject(with: Data(created.out.utf8)) as? [String: Any])
            try await body(wiredesk, try #require(story["id"] as? String))
        }
    }

    @Test func anEditsReasonIsInTheHistory() async throws {
        try await Self.almaty { wiredesk, id in
            let edited = try await wiredesk(
                "story", "edit", id, "--file", "-", "--reason", "Adds the Tengiz output figure", "--as", "rita",
                "--if-version", "1", stdin: Self.standfirst)
            #expect(edited.status == 0, "\(edited.err)")
            let history = try await wiredesk("story", "history", id, "--as", "ed", "--json")
            let events = try #require(try JSONSerialization.jsonObject(with: Data(history.out.utf8)) as? [[String: Any]])
            #expect(events.last?["action"] as? String == "edit")
            #expect(events.last?["reason"] as? String == "Adds the Tengiz output figure")
            #expect(try await wiredesk("story", "history", id, "--as", "ed").out.contains("reason: Adds the Tengiz output figure"))
        }
    }

    @Test func aBadReasonExits2AndWritesNothing() async throws {
        try await Self.almaty { wiredesk, id in
            for (reason, message) in [
                (String(repeating: "x", count: Limits.reason + 1), "reason: at most 2000 characters (got 2001)"),
                ("Adds\u{7}the figure", "reason: control character U+0007 is not allowed"),
            ] {
                let result = try await wiredesk(
                    "story", "edit", id, "--file", "-", "--reason", reason, "--as", "rita", "--if-version", "1",
                    stdin: Self.standfirst)
                #expect(result.status == 2, "\(result.err)")
                #expect(result.err == "error: \(message)\n")
                #expect(result.out.isEmpty)
            }
            let history = try await wiredesk("story", "history", id, "--as", "ed", "--json")
            #expect((try JSONSerialization.jsonObject(with: Data(history.out.utf8)) as? [Any])?.count == 1)
            #expect(try await wiredesk("story", "show", id, "--as", "ed").out.contains("state      draft, version 1"))
        }
    }
}
