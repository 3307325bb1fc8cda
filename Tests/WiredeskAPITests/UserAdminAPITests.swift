import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Tokens carry no role and no standing of their own: what an admin changes holds within a
/// second on every server (`TokenCache`).
@Suite struct UserAdminAPITests {
    @Test func aPromotedReportersTokenApprovesWithinASecond() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty(as: "ravi")
            #expect(try await api.transition(id, "submit", as: "ravi", version: 1).status == .ok)
            let refused = try await api.transition(id, "approve", as: "rita", version: 2)
            #expect(refused.status == .forbidden)
            #expect(try refused.problem.document["rule"] as? String == "approve.role")

            let newsroom = api.newsroom
            _ = try await newsroom.users.changeRole(of: "rita", to: .editor, by: newsroom.admin, logger: newsroom.logger)
            let approved = try await api.eventually(.ok, "rita's approval") {
                try await api.transition(id, "approve", as: "rita", version: 2)
            }
            #expect(approved.status == .ok, "\(approved.text)")
            #expect(try approved.json["state"] as? String == "approved")
            let history = try await api.send(.get, "/v1/stories/\(id)/history?limit=1", as: "aud")
            let event = try #require((try history.json["events"] as? [[String: Any]])?.first)
            #expect(event["actor"] as? String == "rita")
            #expect(event["actorRole"] as? String == "editor")

            // And back: a reporter's again, a second later at the latest (a refused spike cannot
            // be asked for until it is: an accepted one would spike the story).
            _ = try await newsroom.users.changeRole(
                of: "rita", to: .reporter, by: newsroom.admin, logger: newsroom.logger)
            try await Task.sleep(for: APIHarness.tokenCacheDelay)
            let spike = try await api.transition(id, "spike", as: "rita", version: 3)
            #expect(spike.status == .forbidden)
        }
    }

    @Test func aReEnabledUsersTokenWorksAgain() async throws {
        try await APIHarness.with { api in
            let newsroom = api.newsroom
            _ = try await newsroom.users.disable("rita", by: newsroom.admin, logger: newsroom.logger)
            _ = try await api.eventually(.unauthorized, .get, "/v1/stories", as: "rita")
            _ = try await newsroom.users.enable("rita", by: newsroom.admin, logger: newsroom.logger)
            _ = try await api.eventually(.ok, .get, "/v1/stories", as: "rita")
        }
    }
}
