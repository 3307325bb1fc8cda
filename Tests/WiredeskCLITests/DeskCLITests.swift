import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `wiredesk desk`, `story list --q`, `story assign` and `story bulk`.
@Suite struct DeskCLITests {
    typealias CLI = CLITests.CLI

    @Test func desksRoutesSearchAssignmentAndBulkFromTheConsole() async throws {
        try await Newsroom.with { newsroom in
            let wiredesk = CLI(url: newsroom.url)
            #expect(try await wiredesk("desk", "add", "world", "--title", "World").out == "added desk world (World)\n")
            #expect(try await wiredesk("desk", "add", "business", "--title", "Business", "--as", "ada").status == 0)
            let refused = try await wiredesk("desk", "add", "sports", "--title", "Sports", "--as", "ed")
            #expect(refused.status != 0 && refused.err.contains("only admin may manage desks"), "\(refused.err)")
            #expect(try await wiredesk("desk", "list").out == "business\tBusiness\nworld\tWorld\n")
            #expect(try await wiredesk("desk", "route", "add", "--desk", "world", "--source", "Reuters").out == "added rule 1: source Reuters -> world\n")
            let both = try await wiredesk("desk", "route", "add", "--desk", "world", "--source", "AP", "--keyword", "x")
            #expect(both.status != 0 && both.err.contains("one of the two"))
            #expect(try await wiredesk("desk", "route", "list").out == "1\tsource Reuters -> world\n")

            // Agency copy in through the console goes where the rule sends it.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("desk-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try TestDatabase.fixture("reuters-almaty-2022-01-07.txt").write(to: directory.appendingPathComponent("almaty.txt"))
            #expect(try await wiredesk("import", directory.path, "--as", "wirebot").status == 0)
            let own = try await newsroom.story()

            let listed = try await wiredesk("story", "list", "--q", "paratroopers", "--desk", "world", "--as", "ed")
            #expect(listed.status == 0, "\(listed.err)")
            #expect(listed.out.contains("draft      v1    world      -"), "\(listed.out)")
            #expect(listed.out.contains("<mark>paratroopers</mark>"), "\(listed.out)")
            #expect(!listed.out.contains(own.id.uuidString.lowercased()))
            let json = try await wiredesk("story", "list", "--q", "almaty", "--json", "--as", "ed")
            let page = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
            #expect((page["stories"] as? [[String: Any]])?.count == 2)
            let plan = try await wiredesk("story", "list", "--q", "almaty", "--state", "draft", "--explain", "--as", "ed")
            #expect(plan.status == 0 && plan.out.contains("Execution Time"), "\(plan.out)")
            let bad = try await wiredesk("story", "list", "--urgency-min", "0", "--as", "ed")
            #expect(bad.status == 2 && bad.err.contains("urgencyMin"), "\(bad.status) \(bad.err)")

            let assigned = try await wiredesk(
                "story", "assign", own.id.uuidString, "--desk", "business", "--assignee", "rita", "--if-version", "1",
                "--as", "ed")
            #expect(assigned.status == 0, "\(assigned.err)")
            #expect(assigned.out.contains("desk       business") && assigned.out.contains("assignee   rita"), "\(assigned.out)")

            // A dry run changes nothing and says so; a bulk with a refusal exits 1.
            let dry = try await wiredesk("story", "bulk", "spike", "--q", "almaty", "--dry-run", "--as", "ed")
            #expect(dry.status == 0, "\(dry.err)")
            #expect(dry.out.contains("2 stories, 0 refused (dry run: nothing changed)"), "\(dry.out)")
            #expect(try await newsroom.count("SELECT count(*) FROM stories WHERE state = 'spiked'") == 0)
            let mixed = try await wiredesk(
                "story", "bulk", "approve", "--ids", "\(own.id.uuidString)@2", "--reason", "checked", "--as", "ed", "--json")
            #expect(mixed.status == 1, "\(mixed.err)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(mixed.out.utf8)) as? [String: Any])
            #expect((report["outcomes"] as? [[String: Any]])?.first?["rule"] as? String == "approve.state")
            let spiked = try await wiredesk("story", "bulk", "spike", "--q", "almaty", "--as", "ed")
            #expect(spiked.status == 0, "\(spiked.err)")
            let bulkID = try #require(spiked.out.split(separator: "\n").last?.split(separator: " ")[1].dropLast())
            let trail = try await wiredesk("audit", "log", "--bulk", String(bulkID), "--json")
            #expect(trail.status == 0, "\(trail.err)")
            #expect(trail.out.components(separatedBy: #""action" : "spike""#).count == 3, "\(trail.out)")
            let moved = try await wiredesk(
                "story", "bulk", "assign", "--q", "almaty", "--to-desk", "business", "--to-assignee", "-", "--as", "ed")
            #expect(moved.status == 0 && moved.out.contains("2 stories, 0 refused"), "\(moved.out)\(moved.err)")
            let neither = try await wiredesk("story", "bulk", "spike", "--as", "ed")
            #expect(neither.status != 0 && neither.err.contains("one of the two"), "\(neither.err)")
        }
    }
}
