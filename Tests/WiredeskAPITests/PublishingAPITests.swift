import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

/// What publishing scripts use: small answers and retries.
@Suite struct PublishingAPITests {
    static let prefer = HTTPField.Name("Prefer")!

    @Test func aTransitionThatPrefersAMinimalAnswerGets204WithTheETag() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty(as: "rita")
            let minimal = try await api.send(
                .post, "/v1/stories/\(id)/transitions", as: "rita",
                headers: [.ifMatch: "\"1\"", Self.prefer: "respond-async, return=minimal"],
                json: #"{"transition":"submit"}"#)
            #expect(minimal.status == .noContent, "\(minimal.text)")
            #expect(minimal.etag == "\"2\"")
            #expect(minimal.headers[HTTPField.Name("Preference-Applied")!] == "return=minimal")
            #expect(minimal.body.isEmpty)
            #expect(try await api.newsroom.stories.story(UUID(uuidString: id)!, logger: api.newsroom.logger).state == .inReview)

            // Any other preference gets the whole story, as without one.
            let full = try await api.send(
                .post, "/v1/stories/\(id)/transitions", as: "ed", headers: [.ifMatch: "\"2\"", Self.prefer: "return=representation"],
                json: #"{"transition":"approve"}"#)
            #expect(full.status == .ok)
            #expect(try full.json["state"] as? String == "approved")

            // A retried minimal publish is answered as it was: 204 and the same ETag.
            let key = HTTPField.Name("Idempotency-Key")!
            var replies: [APIHarness.Reply] = []
            for _ in 0..<2 {
                replies.append(
                    try await api.send(
                        .post, "/v1/stories/\(id)/transitions", as: "pat",
                        headers: [.ifMatch: "\"3\"", Self.prefer: "return=minimal", key: "pub-\(id)"],
                        json: #"{"transition":"publish"}"#))
            }
            #expect(replies.map(\.status) == [.noContent, .noContent])
            #expect(replies.map(\.etag) == ["\"4\"", "\"4\""])
            #expect(replies[1].headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
        }
    }

    /// Unknown preferences are ignored (RFC 7240), tabs included, but a header the spec does not
    /// allow is refused before anything else; schemathesis found the server taking what its spec
    /// said it refused (a tab, then a stale version: 412, not the 400 the spec promised).
    @Test func aPreferHeaderOutsideTheSpecIsRefusedAndATabIsNot() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty(as: "rita")
            for prefer in [String(repeating: "x", count: 1025), "return=minimal, note=café"] {
                let refused = try await api.send(
                    .post, "/v1/stories/\(id)/transitions", as: "rita",
                    headers: [.ifMatch: "\"7\"", Self.prefer: prefer], json: #"{"transition":"submit"}"#)
                #expect(refused.status == .badRequest, "\(prefer.prefix(40)): \(refused.text)")
                #expect(try refused.problem.document["field"] as? String == "Prefer")
            }
            let stale = try await api.send(
                .post, "/v1/stories/\(id)/transitions", as: "rita",
                headers: [.ifMatch: "\"7\"", Self.prefer: "F!\tn[GQ"], json: #"{"transition":"submit"}"#)
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            let minimal = try await api.send(
                .post, "/v1/stories/\(id)/transitions", as: "rita",
                headers: [.ifMatch: "\"1\"", Self.prefer: "handling=lenient,\treturn=minimal"], json: #"{"transition":"submit"}"#)
            #expect(minimal.status == .noContent, "\(minimal.text)")
            #expect(minimal.etag == "\"2\"")
        }
    }

    @Test func postPublishPublishesTheApprovedAndSaysWhatBecameOfEach() async throws {
        try await APIHarness.with { api in
            var ids: [String] = []
            for _ in 0..<3 {
                let id = try await api.createAlmaty(as: "rita")
                #expect(try await api.transition(id, "submit", as: "rita", version: 1).status == .ok)
                #expect(try await api.transition(id, "approve", as: "ed", version: 2).status == .ok)
                ids.append(id)
            }
            let refused = try await api.send(.post, "/v1/publish", as: "rita", json: "{}")
            #expect(refused.status == .forbidden)
            #expect(try refused.problem.document["rule"] as? String == "publish.role")

            let dry = try await api.send(.post, "/v1/publish", as: "pat", json: #"{"dryRun": true, "limit": 2}"#)
            #expect(dry.status == .ok, "\(dry.text)")
            let planned = try #require(try dry.json["results"] as? [[String: Any]])
            #expect(planned.count == 2)
            #expect(planned.allSatisfy { $0["result"] as? String == "would-publish" && $0["version"] as? Int == 4 })

            let key = HTTPField.Name("Idempotency-Key")!
            let done = try await api.send(.post, "/v1/publish", as: "pat", headers: [key: "cron-0800"], json: "{}")
            #expect(done.status == .ok, "\(done.text)")
            let results = try #require(try done.json["results"] as? [[String: Any]])
            #expect(Set(results.compactMap { $0["id"] as? String }) == Set(ids))
            #expect(results.allSatisfy { $0["result"] as? String == "published" })
            // The cron job's retry is the same answer, not a second run.
            let retry = try await api.send(.post, "/v1/publish", as: "pat", headers: [key: "cron-0800"], json: "{}")
            #expect(retry.body == done.body)
            #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try await api.newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'publish'") == 3)
            #expect(try await api.send(.post, "/v1/publish", as: "pat", json: #"{"limit": 0}"#).status == .badRequest)
        }
    }
}
