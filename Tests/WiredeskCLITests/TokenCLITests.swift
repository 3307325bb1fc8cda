import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `token create --expires` and `token list`, as an operator runs them.
@Suite struct TokenCLITests {
    @Test func tokenCreateExpiresPrintsAWorkingTokenThatListsItsExpiry() async throws {
        try await AdminCLITests.newsroom { wiredesk, users in
            let created = try await wiredesk("token", "create", "ed", "--expires", "90d", "--as", "ada")
            try AdminCLITests.expectOK(created)
            let token = created.out.trimmingCharacters(in: .newlines)
            #expect(token.hasPrefix("wd_"))
            #expect(created.err.contains(", expires 20"))
            #expect(try await users.authenticate(token: token, source: .api, logger: TestDatabase.logger).name == "ed")

            let list = try await wiredesk("token", "list", "ed", "--json")
            let tokens = try #require(try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]])
            let expiresText = try #require(tokens.first?["expiresAt"] as? String)
            let expiresAt = try #require(JSONCoding.parseDate(expiresText))
            #expect(abs(expiresAt.timeIntervalSinceNow - 90 * 86_400) < 300)
            let text = try await wiredesk("token", "list", "ed")
            #expect(text.out.contains("active  expires \(JSONCoding.formatDate(expiresAt))"))

            let event = try #require(try await AdminCLITests.events(wiredesk).last)
            #expect(event["action"] as? String == "token.create")
            #expect(event["reason"] as? String == "for ed, expires \(JSONCoding.formatDate(expiresAt))")

            let json = try await wiredesk("token", "create", "ed", "--expires", "12h", "--json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: String])
            let twelveHours = try #require(object["expiresAt"].flatMap(JSONCoding.parseDate))
            #expect(abs(twelveHours.timeIntervalSinceNow - 12 * 3_600) < 300)
        }
    }

    @Test func badExpiriesAreOneLineAndMakeNoToken() async throws {
        try await AdminCLITests.newsroom { wiredesk, users in
            let cases: [(String, String)] = [
                ("0d", "expires: a token's lifetime must be more than zero"),
                ("5x", "expires: expected a whole number of hours, days or weeks"),
                ("99999d", "expires: a token's lifetime is at most 3650d (ten years)"),
                ("", "expires: expected a whole number"),
            ]
            for (expires, message) in cases {
                try AdminCLITests.expectOneLineError(
                    try await wiredesk("token", "create", "ed", "--expires", expires, "--as", "ada"), status: 2, message)
            }
            let json = try await wiredesk("token", "create", "ed", "--expires", "5x", "--json")
            #expect(json.status == 2)
            let problem = try #require(try JSONSerialization.jsonObject(with: Data(json.err.utf8)) as? [String: Any])
            #expect(problem["error"] as? String == "malformed")
            #expect(try await users.tokens(logger: TestDatabase.logger).isEmpty)
        }
    }
}
