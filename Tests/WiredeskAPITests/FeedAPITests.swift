import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `GET /v1/feed`: what was published, a page at a time, with validators.
@Suite struct FeedAPITests {
    /// The feed's first page once it holds `count` items (entries are released once every older
    /// transaction has ended, which other tests' transactions can hold back for a moment).
    static func page(_ api: APIHarness, _ query: String = "", count: Int, as user: String = "pat") async throws
        -> APIHarness.Reply
    {
        var reply: APIHarness.Reply?
        try await eventually(within: .seconds(60), "\(count) items in the feed") {
            reply = try await api.send(.get, "/v1/feed\(query)", as: user)
            return (try reply?.json["items"] as? [Any])?.count == count
        }
        return reply!
    }

    @Test func aPublishingScriptsStoryReachesTheFeedWithAValidator() async throws {
        try await APIHarness.with { api in
            let id = try await api.publishAlmaty()

            let page = try await Self.page(api, count: 1)
            #expect(page.status == .ok, "\(page.text)")
            #expect(page.headers[.contentType] == "application/json; charset=utf-8")
            let items = try #require(try page.json["items"] as? [[String: Any]])
            #expect(items.first?["uri"] as? String == "urn:wiredesk:story:\(id)")
            #expect(items.first?["pubStatus"] as? String == "usable")
            #expect(items.first?["version"] as? String == "4")
            let cursor = try #require(try page.json["nextCursor"] as? String)
            let etag = try #require(page.etag)
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))

            // Unchanged: 304, with the validator and no body.
            let same = try await api.send(.get, "/v1/feed", as: "pat", headers: [.ifNoneMatch: etag])
            #expect(same.status == .notModified)
            #expect(same.etag == etag)
            #expect(same.body.isEmpty)
            #expect(try await api.send(.get, "/v1/feed", as: "ed", headers: [.ifNoneMatch: "\"other\", \(etag)"]).status == .notModified)

            // Past the end: nothing yet, and the same cursor to come back with.
            let end = try await api.send(.get, "/v1/feed?after=\(cursor)", as: "pat")
            #expect((try end.json["items"] as? [Any])?.isEmpty == true)
            #expect(try end.json["nextCursor"] as? String == cursor)

            // A kill: the page reads differently now, so the old validator no longer matches.
            #expect(try await api.transition(id, "kill", as: "ed", version: 4, reason: "Legal: withdraw").status == .ok)
            let changed = try await api.send(.get, "/v1/feed", as: "pat", headers: [.ifNoneMatch: etag])
            #expect(changed.status == .ok)
            #expect(changed.etag != etag)
            let tombstone = try #require(try changed.json["items"] as? [[String: Any]]).first
            #expect(tombstone?["pubStatus"] as? String == "canceled")
            #expect(tombstone?["bodies"] == nil && tombstone?["headlines"] == nil)
            #expect((tombstone?["edNote"] as? String)?.contains("Legal: withdraw") == true)
        }
    }

    @Test func onlyTheDesksRolesReadTheFeedAndBadCursorsAreNamed() async throws {
        try await APIHarness.with { api in
            for user in ["rita", "ed", "pat", "ada", "partner"] {
                #expect(try await api.send(.get, "/v1/feed", as: user).status == .ok, "\(user)")
            }
            for user in ["aud", "wirebot"] {
                let refused = try await api.send(.get, "/v1/feed", as: user)
                #expect(refused.status == .forbidden, "\(user)")
                #expect(try refused.problem.document["rule"] as? String == "feed.role")
            }
            #expect(try await api.send(.get, "/v1/feed", as: nil).status == .unauthorized)
            for query in ["after=x", "after=1", "after=1-2-3", "limit=0", "limit=501", "limit=x"] {
                let bad = try await api.send(.get, "/v1/feed?\(query)", as: "pat")
                #expect(bad.status == .badRequest, "\(query): \(bad.text)")
            }
            #expect(try await api.send(.post, "/v1/feed", as: "pat", json: "{}").status == .methodNotAllowed)
        }
    }

    @Test func aSubscriberReadsTheFeedAndNothingElse() async throws {
        try await APIHarness.with { api in
            let id = try await api.publishAlmaty()
            let page = try await Self.page(api, count: 1, as: "partner")
            #expect(page.status == .ok)

            // Every read goes through one rule (`Workflow.readers`, WorkflowTests); a sample of routes here.
            for path in ["/v1/stories", "/v1/stories/\(id)", "/v1/stories/\(id)/history", "/v1/stories/\(id)/revisions/1"] {
                let refused = try await api.send(.get, path, as: "partner")
                #expect(refused.status == .forbidden, "\(path): \(refused.text)")
                #expect(try refused.problem.document["rule"] as? String == "read.role", "\(path)")
            }
            #expect(try await api.send(.get, "/v1/audit", as: "partner").status == .forbidden)
            #expect(try await api.send(.post, "/v1/stories", as: "partner", json: APIHarness.almatyJSON).status == .forbidden)
            #expect(try await api.transition(id, "kill", as: "partner", version: 4, reason: "no").status == .forbidden)
            #expect(try await api.send(.post, "/v1/publish", as: "partner", json: "{}").status == .forbidden)
        }
    }
}
