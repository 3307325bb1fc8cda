import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `story diff ID A B`: what the API's diffRevisions answers, on a terminal.
@Suite struct StoryDiffCLITests {
    @Test func storyDiffNamesTheChangedFieldsBetweenTwoRevisions() async throws {
        try await StoryEditCLITests.almaty { wiredesk, id in
            #expect(
                try await wiredesk(
                    "story", "edit", id, "--file", "-", "--as", "rita", "--if-version", "1", stdin: StoryEditCLITests.standfirst
                ).status == 0)
            #expect(
                try await wiredesk(
                    "story", "edit", id, "--file", "-", "--as", "rita", "--if-version", "2",
                    stdin: #"{"urgency": null, "keywords": ["Kazakhstan", "Tengiz"]}"#
                ).status == 0)

            let diff = try await wiredesk("story", "diff", id, "1", "2", "--as", "ed")
            #expect(diff.status == 0, "\(diff.err)")
            #expect(diff.out == #"standfirst: (none) → "Oil output at Tengiz cut as Russian troops arrive""# + "\n")

            let wide = try await wiredesk("story", "diff", id, "1", "3", "--as", "ed")
            let lines = wide.out.split(separator: "\n")
            #expect(lines.map { String($0.prefix { $0 != ":" }) } == ["keywords", "standfirst", "urgency"])
            #expect(lines.last == "urgency: 3 → (none)")

            // The same shape as GET /v1/stories/{id}/revisions/1/diff/3.
            let json = try await wiredesk("story", "diff", id, "1", "3", "--as", "ed", "--json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["from", "to", "changes"])
            #expect(object["from"] as? Int == 1)
            #expect(object["to"] as? Int == 3)
            let changes = try #require(object["changes"] as? [[String: Any]])
            #expect(changes.map { $0["field"] as? String } == ["keywords", "standfirst", "urgency"])
            #expect(changes[2]["from"] as? Int == 3)
            #expect(changes[2].keys.contains("to") == false)
        }
    }

    @Test func storyDiffOfARevisionThatIsNotThereExits3() async throws {
        try await StoryEditCLITests.almaty { wiredesk, id in
            for arguments in [
                ["story", "diff", id, "1", "9", "--as", "ed"],
                ["story", "diff", UUID().uuidString, "1", "2", "--as", "ed"],
            ] {
                let result = try await wiredesk.run(arguments)
                #expect(result.status == 3, "\(result.err)")
                #expect(result.err.hasPrefix("error: "))
                #expect(result.err.split(separator: "\n").count == 1, "\(result.err)")
                #expect(result.out.isEmpty)
            }
            #expect(try await wiredesk("story", "diff", id, "1", "9", "--as", "ed").err.contains("has no revision 9"))
        }
    }
}
