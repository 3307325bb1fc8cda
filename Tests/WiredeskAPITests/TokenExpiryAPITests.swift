import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

@Suite struct TokenExpiryAPITests {
    @Test func anExpiredTokenIs401() async throws {
        try await APIHarness.with { api in
            #expect(try await api.send(.get, "/v1/stories", as: "ed").status == .ok)
            // api_tokens is not append-only: the test moves ed's expiry into the past.
            try await api.newsroom.client.query(
                "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE user_name = 'ed'",
                logger: api.newsroom.logger)
            let expired = try await api.eventually(.unauthorized, .get, "/v1/stories", as: "ed")
            #expect(expired.status == .unauthorized)
            let (type, document) = try expired.problem
            #expect(type == "unauthenticated")
            #expect(document["detail"] as? String == "the token is unknown, revoked, expired, or its user is disabled")
            #expect(try await api.send(.get, "/v1/stories", as: "rita").status == .ok)
        }
    }
}
