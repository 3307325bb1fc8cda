import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `wiredesk webhook`: an operator adds, inspects and removes endpoints.
@Suite struct WebhookCLITests {
    typealias CLI = CLITests.CLI

    @Test func anOperatorAddsListsInspectsAndRemovesAnEndpoint() async throws {
        try await Newsroom.with { newsroom in
            let wiredesk = CLI(url: newsroom.url)
            let added = try await wiredesk("webhook", "add", "https://partner.example/wiredesk")
            #expect(added.status == 0, "\(added.err)")
            let lines = added.out.split(separator: "\n")
            #expect(lines.first == "added webhook 1 → https://partner.example/wiredesk")
            #expect(lines.last?.hasPrefix("secret whsec_") == true)

            let json = try await wiredesk(
                "webhook", "add", "http://127.0.0.1:9/hook", "--secret", "a-shared-secret-of-28-bytes!", "--from-start",
                "--as", "ada", "--json")
            #expect(json.status == 0, "\(json.err)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
            #expect((object["endpoint"] as? [String: Any])?["id"] as? Int == 2)
            #expect(object["secret"] as? String == "whsec_" + Data("a-shared-secret-of-28-bytes!".utf8).base64EncodedString())

            let list = try await wiredesk("webhook", "list")
            #expect(list.status == 0)
            #expect(list.out.contains("1     active    https://partner.example/wiredesk"), "\(list.out)")
            #expect(!list.out.contains("whsec_"), "a secret was shown again")
            let status = try await wiredesk("webhook", "status", "1")
            #expect(status.status == 0)
            #expect(status.out.contains("state       active"), "\(status.out)")
            #expect(status.out.contains("pending     0"))
            let all = try await wiredesk("webhook", "status", "--json")
            let endpoints = try #require(try JSONSerialization.jsonObject(with: Data(all.out.utf8)) as? [[String: Any]])
            #expect(endpoints.map { $0["state"] as? String } == ["active", "active"])

            // One the server gave up on is shown so, with why.
            _ = try await newsroom.client.query(
                """
                UPDATE webhooks SET state = 'disabled', disabled_at = now(), attempts = 9,
                    failing_since = now() - interval '1 day', last_error = 'HTTP 503: down for maintenance'
                WHERE id = 2
                """, logger: newsroom.logger)
            #expect(try await wiredesk("webhook", "list").out.contains("2     disabled  http://127.0.0.1:9/hook"))
            let given = try await wiredesk("webhook", "status", "2")
            #expect(given.out.contains("state       disabled since"), "\(given.out)")
            #expect(given.out.contains("failing     9 attempts since"))
            #expect(given.out.contains("last error  HTTP 503: down for maintenance"))
            #expect(!given.out.contains("next try"))

            #expect(try await wiredesk("webhook", "remove", "1").out == "removed webhook 1\n")
            let gone = try await wiredesk("webhook", "remove", "1")
            #expect(gone.status == 3 && gone.err.contains("no webhook 1"), "\(gone.err)")
            let bad = try await wiredesk("webhook", "add", "partner.example")
            #expect(bad.status == 2 && bad.err.contains("http:// or https://"), "\(bad.err)")
            let short = try await wiredesk("webhook", "add", "https://partner.example/x", "--secret", "short")
            #expect(short.status == 2 && short.err.contains("24 to 64 bytes"), "\(short.err)")
            let refused = try await wiredesk("webhook", "add", "https://partner.example/x", "--as", "ed")
            #expect(refused.status == 5, "\(refused.err)")
            #expect(try await wiredesk("webhook", "list").out.split(separator: "\n").count == 1)
        }
    }
}
