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
}
