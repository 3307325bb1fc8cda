import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Search, filters, assignment and bulk changes over HTTP.
@Suite struct DeskAPITests {
    static func ids(_ reply: APIHarness.Reply) throws -> [String] {
        try #require(try reply.json["stories"] as? [[String: Any]], "\(reply.text)").compactMap { $0["id"] as? String }
    }

    @Test func searchAnswersSummariesWithSnippetsAndFiltersCombine() async throws {
        try await APIHarness.with { api in
            _ = try await DeskStore(database: api.newsroom.database).add(
                "world", title: "World", by: api.newsroom.admin, logger: api.newsroom.logger)
            let almaty = try await api.createAlmaty()
            let other = try await api.send(
                .post, "/v1/stories", as: "rita",
                json: #"{"headline": "Markets in Tokyo", "body": [{"kind": "paragraph", "text": "Shares rose."}]}"#)
            let otherID = try #require(try other.json["id"] as? String)

            let found = try await api.send(.get, "/v1/stories?q=paratroopers%20Almaty&limit=20", as: "aud")
            #expect(found.status == .ok)
            let stories = try #require(try found.json["stories"] as? [[String: Any]])
            #expect(stories.map { $0["id"] as? String } == [almaty])
            let summary = stories[0]
            #expect(summary["headline"] as? String == "Fresh violence in Almaty as Russia sends paratroopers to Kazakhstan")
            #expect(summary["state"] as? String == "draft" && summary["version"] as? Int == 1)
            #expect(summary["source"] as? String == "Reuters" && summary["slug"] as? String == "kazakhstan-protests-almaty")
            #expect(summary["body"] == nil && summary["pictures"] == nil)
            let snippets = try #require(summary["snippets"] as? [String: String])
            #expect(snippets["headline"] == "Fresh violence in <mark>Almaty</mark> as Russia sends <mark>paratroopers</mark> to Kazakhstan")
            #expect((summary["rank"] as? Double ?? 0) > 0)

            // Whole stories when asked; filters with and without words.
            let full = try await api.send(.get, "/v1/stories?q=almaty&full=true", as: "ed")
            let story = try #require((try full.json["stories"] as? [[String: Any]])?.first)
            #expect((story["body"] as? [Any])?.isEmpty == false && story["snippets"] == nil)
            #expect(try Self.ids(await api.send(.get, "/v1/stories?q=almaty&state=in_review", as: "ed")) == [])
            #expect(try Self.ids(await api.send(.get, "/v1/stories?source=reuters", as: "ed")) == [almaty])
            #expect(try Self.ids(await api.send(.get, "/v1/stories?desk=-&order=updated", as: "ed")) == [otherID, almaty])
            #expect(try Self.ids(await api.send(.get, "/v1/stories?keyword=csto&urgencyMax=5", as: "ed")) == [almaty])

            // Bad input is a 400 naming the parameter, never a 5xx; a subscriber reads no stories.
            // What the spec does not allow is malformed (400); what it allows but cannot be answered is
            // invalid (422): rank without words, a cursor of another order.
            for (query, field, status) in [
                ("state=bogus", "state", 400), ("urgencyMin=0", "urgencyMin", 400), ("order=rank", "order", 422),
                ("createdSince=yesterday", "createdSince", 400), ("embargoed=maybe", "embargoed", 400), ("full=1", "full", 400),
                ("cursor=u1-00000000-0000-0000-0000-000000000000", "cursor", 422), ("q=%00", "q", 400), ("limit=501", "limit", 400),
            ] {
                let reply = try await api.send(.get, "/v1/stories?\(query)", as: "ed")
                #expect(reply.status.code == status, "\(query): \(reply.text)")
                #expect(try reply.problem.document["field"] as? String == field, "\(query): \(reply.text)")
            }
            #expect(try await api.send(.get, "/v1/stories?q=almaty", as: "partner").status == .forbidden)
        }
    }

    @Test func editorsAssignAndDesksAreListed() async throws {
        try await APIHarness.with { api in
            _ = try await DeskStore(database: api.newsroom.database).add(
                "world", title: "World", by: api.newsroom.admin, logger: api.newsroom.logger)
            let desks = try await api.send(.get, "/v1/desks", as: "rita")
            #expect(desks.status == .ok)
            #expect(desks.text.contains(#""name":"world""#) && desks.text.contains(#""title":"World""#))

            let id = try await api.createAlmaty()
            let path = "/v1/stories/\(id)/assignment"
            let assigned = try await api.send(
                .post, path, as: "ed", headers: [.ifMatch: "\"1\""],
                json: #"{"desk": "world", "assignee": "rita", "reason": "Central Asia"}"#)
            #expect(assigned.status == .ok, "\(assigned.text)")
            #expect(assigned.etag == "\"2\"")
            #expect(try assigned.json["desk"] as? String == "world" && assigned.json["assignee"] as? String == "rita")
            let read = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect(try read.json["desk"] as? String == "world")
            let cleared = try await api.send(.post, path, as: "ed", headers: [.ifMatch: "\"2\""], json: #"{"assignee": null}"#)
            #expect(try cleared.json["assignee"] == nil && cleared.json["desk"] as? String == "world")
            #expect(try Self.ids(await api.send(.get, "/v1/stories?desk=world&assignee=-", as: "ed")) == [id])

            for (user, version, body, status) in [
                ("rita", "\"3\"", #"{"desk": "world"}"#, HTTPResponse.Status.forbidden),
                ("ed", "\"1\"", #"{"desk": "world"}"#, .preconditionFailed),
                ("ed", "\"3\"", #"{"desk": "sports"}"#, .unprocessableContent),
                ("ed", "\"3\"", #"{"assignee": "aud"}"#, .unprocessableContent),
                ("ed", "\"3\"", #"{}"#, .unprocessableContent),
                ("ed", "\"3\"", #"{"desk": 7}"#, .badRequest),
                ("ed", "\"3\"", #"{"room": "world"}"#, .badRequest),
            ] {
                let reply = try await api.send(.post, path, as: user, headers: [.ifMatch: version], json: body)
                #expect(reply.status == status, "\(body): \(reply.text)")
            }
            #expect(try await api.send(.post, path, as: "ed", json: #"{"desk": "world"}"#).status == .preconditionRequired)
        }
    }

    @Test func bulkTransitionsReportEachStoryAndTieTheirEvents() async throws {
        try await APIHarness.with { api in
            let drafts = [try await api.createAlmaty(), try await api.createAlmaty()]
            let published = try await api.publishAlmaty()
            let body = """
                {"transition": "spike", "reason": "duplicates",
                 "stories": [{"id": "\(drafts[0])", "version": 1}, {"id": "\(drafts[1])"}, {"id": "\(published)"}]}
                """
            let dry = try await api.send(
                .post, "/v1/stories/bulk/transitions", as: "ed",
                json: body.replacingOccurrences(of: #""reason""#, with: #""dryRun": true, "reason""#))
            #expect(dry.status == .ok, "\(dry.text)")
            #expect(try (dry.json["outcomes"] as? [[String: Any]])?.map { $0["result"] as? String } == ["would-apply", "would-apply", "refused"])
            #expect(try Self.ids(await api.send(.get, "/v1/stories?state=spiked", as: "ed")) == [])

            let reply = try await api.send(.post, "/v1/stories/bulk/transitions", as: "ed", json: body)
            #expect(reply.status == .ok, "\(reply.text)")
            let outcomes = try #require(try reply.json["outcomes"] as? [[String: Any]])
            #expect(outcomes.map { $0["result"] as? String } == ["applied", "applied", "refused"])
            #expect(outcomes[2]["problem"] as? String == "invalid-transition" && outcomes[2]["rule"] as? String == "spike.state")
            let bulkID = try #require(try reply.json["bulkId"] as? String)
            let trail = try await api.send(.get, "/v1/audit?bulk=\(bulkID)", as: "aud")
            let events = try #require(try trail.json["events"] as? [[String: Any]])
            #expect(Set(events.compactMap { $0["storyId"] as? String }) == Set(drafts))
            #expect(events.allSatisfy { $0["bulkId"] as? String == bulkID })

            // Found by a query; the wrong shape is refused whole.
            let byQuery = try await api.send(
                .post, "/v1/stories/bulk/transitions", as: "ed",
                json: #"{"transition": "unspike", "query": {"q": "almaty", "state": "spiked"}}"#)
            #expect(try (byQuery.json["outcomes"] as? [[String: Any]])?.count == 2, "\(byQuery.text)")
            for (bad, status) in [
                (#"{"transition": "spike"}"#, 422), (#"{"transition": "spike", "query": {"colour": "red"}}"#, 400),
                (#"{"transition": "spike", "query": {}, "stories": [{"id": "\#(published)"}]}"#, 422),
                (#"{"transition": "fly", "stories": [{"id": "\#(published)"}]}"#, 400),
                (#"{"transition": "spike", "query": {"state": "nope"}}"#, 422),
                (#"{"transition": "spike", "stories": [{"id": "\#(published)", "version": 0}]}"#, 400),
            ] {
                let refused = try await api.send(.post, "/v1/stories/bulk/transitions", as: "ed", json: bad)
                #expect(refused.status.code == status, "\(bad): \(refused.text)")
            }
            let reporter = try await api.send(.post, "/v1/stories/bulk/transitions", as: "rita", json: body)
            #expect(reporter.status == .forbidden)

            let assign = try await api.send(
                .post, "/v1/stories/bulk/assignments", as: "ed",
                json: #"{"assignment": {"assignee": "ed"}, "stories": [{"id": "\#(drafts[0])"}]}"#)
            #expect(try (assign.json["outcomes"] as? [[String: Any]])?.first?["result"] as? String == "applied", "\(assign.text)")
        }
    }
}
