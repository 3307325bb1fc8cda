import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Webhook endpoints: what an admin may set up, and the signing every receiver relies on.
@Suite struct WebhookStoreTests {
    /// The example in the Standard Webhooks specification (standard-webhooks/standard-webhooks,
    /// spec/standard-webhooks.md), so that receivers using its libraries accept our signatures.
    @Test func signaturesAreStandardWebhooks() throws {
        let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signature = secret.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // Plain text is a key too, written back as whsec_ for the receiver's libraries.
        let text = try WebhookSecret("a-shared-secret-of-28-bytes!")
        #expect(text.text == "whsec_" + Data("a-shared-secret-of-28-bytes!".utf8).base64EncodedString())
        #expect(try WebhookSecret(text.text) == text)
        #expect(WebhookSecret.generate() != WebhookSecret.generate())
        #expect(WebhookSecret.generate().key.count == 32)
        for bad in ["short", "whsec_!!!", "whsec_" + Data(count: 8).base64EncodedString(), String(repeating: "x", count: 65)] {
            #expect(throws: WiredeskError.self, "\(bad)") { try WebhookSecret(bad) }
        }
    }

    @Test func onlyAnAdminManagesEndpointsAndEveryChangeIsAudited() async throws {
        try await Newsroom.with { newsroom in
            let store = WebhookStore(database: newsroom.database)
            let logger = newsroom.logger
            for user in [newsroom.editor, newsroom.publisher, newsroom.subscriber] {
                do {
                    _ = try await store.add(url: "https://partner.example/hook", secret: nil, by: user, logger: logger)
                    Issue.record("\(user.name) added a webhook")
                } catch let error as WiredeskError {
                    #expect(error.kind == .forbidden && error.rule == "admin.role")
                }
            }
            for url in [
                "ftp://partner.example/x", "partner.example/hook", "https://", "http://a b/", "javascript:alert(1)",
                "HTTPS://partner.example/hook",
            ] {
                await #expect(throws: WiredeskError.self, "\(url)") {
                    try await store.add(url: url, secret: nil, by: newsroom.admin, logger: logger)
                }
            }
            #expect(try await store.list(logger: logger).isEmpty)

            // Sent from now on: what was published before is not pending for it, unless asked for.
            _ = try await newsroom.story(through: [.submit, .approve, .publish])
            try await eventually(within: .seconds(60), "the entry released") {
                try await FeedStore(database: newsroom.database).head(logger: logger) != .start
            }
            let (endpoint, secret) = try await store.add(
                url: "https://partner.example/hook", secret: nil, by: newsroom.admin, logger: logger)
            #expect(secret.hasPrefix("whsec_"))
            #expect(endpoint.state == .active && endpoint.pending == 0 && endpoint.delivered == 0)
            let (backfill, _) = try await store.add(
                url: "http://127.0.0.1:9/archive", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", fromStart: true,
                by: newsroom.admin, logger: logger)
            #expect(backfill.after == "0-0" && backfill.pending == 1)

            #expect(try await store.list(logger: logger).map(\.id) == [endpoint.id, backfill.id])
            try await store.remove(endpoint.id, by: newsroom.admin, logger: logger)
            do {
                try await store.remove(endpoint.id, by: newsroom.admin, logger: logger)
                Issue.record("removed twice")
            } catch let error as WiredeskError {
                #expect(error.kind == .notFound)
            }
            await #expect(throws: WiredeskError.self) {
                try await store.enable(backfill.id, by: newsroom.editor, logger: logger)
            }
            let actions = try await newsroom.count(
                "SELECT count(*) FROM audit_events WHERE action LIKE 'webhook.%' AND actor = 'ada'")
            #expect(actions == 3)  // two adds and a removal
        }
    }
}
