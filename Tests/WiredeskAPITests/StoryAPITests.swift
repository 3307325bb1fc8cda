import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WiredeskAPI
import WiredeskCore
import WiredeskTestSupport

@Suite struct StoryAPITests {
    /// The read is a hand-written route: it answers the spec's formats and refusals as the
    /// generated routes do, and its JSON is the story's own.
    @Test func aReadNegotiatesItsFormatAndRefusesWhatItCannotSend() async throws {
        try await APIHarness.with { api in
            let created = try await api.send(.post, "/v1/stories", as: "rita", json: APIHarness.almatyJSON)
            let id = try #require(try created.json["id"] as? String)
            let path = "/v1/stories/\(id)"
            let cases: [(accept: String?, query: String, status: HTTPResponse.Status, type: String)] = [
                (nil, "", .ok, "application/json; charset=utf-8"),
                ("", "", .ok, "application/json; charset=utf-8"),
                ("*/*", "", .ok, "application/json; charset=utf-8"),
                ("application/*;q=0.2", "", .ok, "application/json; charset=utf-8"),
                ("application/ninjs+json", "", .ok, "application/ninjs+json; charset=utf-8"),
                ("APPLICATION/NINJS+JSON; q=1", "", .ok, "application/ninjs+json; charset=utf-8"),
                ("application/ninjs+json;q=0.5, application/json", "", .ok, "application/json; charset=utf-8"),
                (nil, "?format=ninjs2", .ok, "application/ninjs+json; charset=utf-8"),
                ("application/json", "?format=json&format=ninjs", .ok, "application/json; charset=utf-8"),
                ("text/html", "", .notAcceptable, "application/problem+json"),
                ("application/json", "?format=ninjs", .notAcceptable, "application/problem+json"),
                ("garbage;;", "", .badRequest, "application/problem+json"),
                ("text/", "", .badRequest, "application/problem+json"),
                (nil, "?format=bogus", .badRequest, "application/problem+json"),
                (nil, "?format=", .badRequest, "application/problem+json"),
            ]
            for (accept, query, status, type) in cases {
                let reply = try await api.send(
                    .get, path + query, as: "aud", headers: accept.map { [.accept: $0] } ?? [:])
                #expect(reply.status == status, "\(accept ?? "no Accept") \(query)")
                #expect(reply.headers[.contentType] == type, "\(accept ?? "no Accept") \(query)")
                if status == .ok { #expect(reply.etag == "\"1\"") }
            }
            let json = try await api.send(.get, path, as: "aud")
            #expect(try json.json["id"] as? String == id)
            #expect(try json.json["version"] as? Int == 1)
            #expect(try json.json["createdBy"] as? String == "rita")
            #expect(try json.json["corrections"] as? [Any] != nil)
            #expect(try json.json["ednote"] == nil)
            let notAcceptable = try await api.send(.get, path, as: "aud", headers: [.accept: "text/html"])
            #expect(try notAcceptable.problem.type == "not-acceptable")
            let malformed = try await api.send(.get, path, as: "aud", headers: [.accept: "garbage;;"])
            #expect(try malformed.problem.type == "malformed")
            #expect(try malformed.problem.document["field"] as? String == "Accept")
            let anonymous = try await api.send(.get, path, as: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(try await api.send(.get, "/v1/stories/not-a-uuid", as: "aud").problem.type == "malformed")
            #expect(try await api.send(.get, "/v1/stories/\(UUID())", as: "aud").status == .notFound)
        }
    }

    @Test func almatyFromDraftToPublishedOverHTTP() async throws {
        try await APIHarness.with { api in
            let created = try await api.send(
                .post, "/v1/stories", as: "rita", headers: [.init("X-Request-Id")!: "almaty-create-1"],
                json: APIHarness.almatyJSON)
            #expect(created.status == .created)
            #expect(created.etag == "\"1\"")
            #expect(created.headers[.requestID] == "almaty-create-1")
            let story = try created.json
            let id = try #require(story["id"] as? String)
            #expect(created.headers[.location] == "/v1/stories/\(id)")
            #expect(story["state"] as? String == "draft")
            #expect((story["dateline"] as? [String: String]) == ["place": "ALMATY", "date": "2022-01-07"])
            #expect(story["source"] as? String == "Reuters")
            let picture = try #require((story["pictures"] as? [[String: Any]])?.first)
            #expect(
                picture["caption"] as? String
                    == "Demonstrators clash with law enforcement officers during a protest triggered by fuel price increase in Aktobe, Kazakhstan January 5, 2022."
            )
            #expect(picture["creditline"] as? String == "Interior Ministry of Kazakhstan/ via REUTERS")
            let body = try #require(story["body"] as? [[String: String]])
            #expect(
                body.filter { $0["kind"] == "crosshead" }.map { $0["text"] } == ["ATTACK ON OUR CITIZENS", "LOOTERS CAME IN"])

            let fetched = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect(fetched.status == .ok)
            #expect(fetched.etag == "\"1\"")
            #expect(try fetched.json["headline"] as? String == story["headline"] as? String)

            let submitted = try await api.transition(id, "submit", as: "rita", version: 1)
            #expect(submitted.status == .ok)
            #expect(submitted.etag == "\"2\"")
            let approved = try await api.transition(id, "approve", as: "ed", version: 2)
            #expect(approved.status == .ok)
            let published = try await api.transition(id, "publish", as: "pat", version: 3)
            #expect(published.status == .ok)
            #expect(published.etag == "\"4\"")
            #expect(try published.json["state"] as? String == "published")
            #expect(try published.json["publishedAt"] is String)

            let history = try await api.send(.get, "/v1/stories/\(id)/history", as: "aud")
            #expect(history.status == .ok)
            let events = try #require(try history.json["events"] as? [[String: Any]])
            #expect(events.map { $0["action"] as? String } == ["publish", "approve", "submit", "create"])
            #expect(events.map { $0["actor"] as? String } == ["pat", "ed", "rita", "rita"])
            #expect(events.allSatisfy { $0["source"] as? String == "api" && $0["requestId"] is String })
            #expect(events.last?["requestId"] as? String == "almaty-create-1")
            #expect(events.first?["fromState"] as? String == "approved")
            #expect(events.first?["toState"] as? String == "published")

            let revisions = try await api.send(.get, "/v1/stories/\(id)/revisions", as: "aud")
            let summaries = try #require(try revisions.json["revisions"] as? [[String: Any]])
            #expect(summaries.count == 1)
            #expect(summaries.first?["content"] == nil)
            #expect((summaries.first?["changedFields"] as? [String])?.contains("body") == true)
            let revision = try await api.send(.get, "/v1/stories/\(id)/revisions/1", as: "aud")
            #expect(try (revision.json["content"] as? [String: Any])?["slug"] as? String == "kazakhstan-protests-almaty")
        }
    }

    @Test func patchCorrectAndDiffRevisions() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let patched = try await api.send(
                .patch, "/v1/stories/\(id)", as: "rita", headers: [.ifMatch: "\"1\""],
                json: #"{"standfirst": "Dozens killed — “the worst unrest” in 30 years", "urgency": null}"#,
                contentType: "application/merge-patch+json")
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched.etag == "\"2\"")
            #expect(try patched.json["standfirst"] as? String == "Dozens killed — “the worst unrest” in 30 years")
            #expect(try patched.json["urgency"] == nil)

            let diff = try await api.send(.get, "/v1/stories/\(id)/revisions/1/diff/2", as: "aud")
            #expect(diff.status == .ok)
            let changes = try #require(try diff.json["changes"] as? [[String: Any]])
            #expect(changes.map { $0["field"] as? String } == ["standfirst", "urgency"])
            #expect(changes[1]["from"] as? Int == 3)
            #expect(changes[1]["to"] == nil)

            for (transition, user, version) in [("submit", "rita", 2), ("approve", "ed", 3), ("publish", "pat", 4)] {
                #expect(try await api.transition(id, transition, as: user, version: version).status == .ok)
            }
            let correction = try await api.send(
                .post, "/v1/stories/\(id)/transitions", headers: [.ifMatch: "\"5\""],
                json:
                    #"{"transition": "correct", "reason": "Corrects the number of arrests", "patch": {"headline": "More than 2,000 arrested in Kazakhstan unrest"}}"#
            )
            #expect(correction.status == .ok, "\(correction.text)")
            let corrected = try correction.json
            #expect(corrected["state"] as? String == "published")
            #expect(corrected["headline"] as? String == "More than 2,000 arrested in Kazakhstan unrest")
            #expect((corrected["corrections"] as? [[String: Any]])?.first?["note"] as? String == "Corrects the number of arrests")
        }
    }

    @Test func listingPagesNewestFirstAndStaysStableUnderInserts() async throws {
        try await APIHarness.with { api in
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try await api.createAlmaty()) }
            let first = try await api.send(.get, "/v1/stories?limit=2", as: "aud")
            let firstPage = try #require(try first.json["stories"] as? [[String: Any]])
            #expect(firstPage.map { $0["id"] as? String } == [ids[4], ids[3]])
            let cursor = try #require(try first.json["nextCursor"] as? String)

            _ = try await api.createAlmaty()  // a new story must not shift the pages still to read
            let second = try await api.send(
                .get, "/v1/stories?limit=2&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                as: "aud")
            #expect(try (second.json["stories"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[2], ids[1]])
            let third = try await api.send(
                .get, "/v1/stories?limit=2&cursor=\(try #require(try second.json["nextCursor"] as? String))", as: "aud")
            #expect(try (third.json["stories"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[0]])
            #expect(try third.json["nextCursor"] == nil)

            #expect(try await api.transition(ids[2], "submit", as: "rita", version: 1).status == .ok)
            let inReview = try await api.send(.get, "/v1/stories?state=in_review", as: "aud")
            #expect(try (inReview.json["stories"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[2]])
        }
    }

    @Test func concurrentPatchesOfOneVersionHaveExactlyOneWinner() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let writers = 8
            for version in 1...5 {
                let statuses = try await withThrowingTaskGroup(of: (Int, HTTPResponse.Status).self) { group in
                    for writer in 0..<writers {
                        group.addTask {
                            let reply = try await api.send(
                                .patch, "/v1/stories/\(id)", as: "ed", headers: [.ifMatch: "\"\(version)\""],
                                json: #"{"standfirst": "v\#(version) w\#(writer)"}"#)
                            return (writer, reply.status)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let winners = statuses.filter { $0.1 == .ok }
                #expect(winners.count == 1, "version \(version): \(statuses)")
                #expect(statuses.filter { $0.1 == .preconditionFailed }.count == writers - 1)
                let winner = try #require(winners.first?.0)
                let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
                #expect(story.etag == "\"\(version + 1)\"")
                #expect(try story.json["standfirst"] as? String == "v\(version) w\(winner)")
            }
            let history = try await api.send(.get, "/v1/stories/\(id)/history", as: "aud")
            let events = try #require(try history.json["events"] as? [[String: Any]])
            #expect(events.filter { $0["action"] as? String == "edit" }.count == 5)
            #expect(try await api.newsroom.count("SELECT count(*) FROM revisions") == 6)
        }
    }

    @Test func theServerServesExactlyItsSpec() async throws {
        try await APIHarness.with { api in
            let reply = try await api.send(.get, "/openapi.yaml", as: nil)
            #expect(reply.status == .ok)
            let file = try Data(
                contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("Sources/WiredeskAPI/openapi.yaml"))
            #expect(reply.body == file)
            #expect(reply.text.hasPrefix("openapi: \"3.1.0\""))
        }
    }

    @Test func serviceRoutesAnswerWithoutAToken() async throws {
        try await APIHarness.with { api in
            #expect(try await api.send(.get, "/health", as: nil).text == #"{"status":"ok"}"#)
            // Readiness is a probe with a two-second budget, and while the whole suite starts at
            // once a first connection can take longer: wait for it as a load balancer would,
            // accepting only 503 problem+json on the way.
            let deadline = ContinuousClock.now + .seconds(30)
            var ready = try await api.send(.get, "/ready", as: nil)
            while ready.status == .serviceUnavailable, ContinuousClock.now < deadline {
                #expect(try ready.problem.type == "unavailable")
                try await Task.sleep(for: .milliseconds(200))
                ready = try await api.send(.get, "/ready", as: nil)
            }
            #expect(ready.status == .ok)
            #expect(ready.text == #"{"status":"ready"}"#)
            let id = try await api.createAlmaty()
            #expect(try await api.transition(id, "submit", as: "rita", version: 1).status == .ok)
            let metrics = try await api.send(.get, "/metrics", as: nil)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains(#"wiredesk_transitions_total{transition="submit"}"#))
            #expect(
                metrics.text.contains(#"http_route="/v1/stories",http_request_method="POST",http_response_status_code="201""#))
            #expect(metrics.text.contains("http_server_request_duration"))
            #expect(metrics.text.contains("wiredesk_db_pool_in_use"))
            #expect(metrics.text.contains("wiredesk_db_pool_size"))
        }
    }

    /// A client may send any method token: those the server does not know share one label, so
    /// that no client can grow the metrics without bound.
    @Test func unknownMethodsShareOneMetricsLabel() async throws {
        try await APIHarness.with { api in
            // QUERY reaches a route (and is refused there); BREW does not even match one.
            for name in ["QUERY", "BREW"] {
                let reply = try await api.send(HTTPRequest.Method(name)!, "/v1/stories", as: nil)
                #expect(reply.status.code >= 400 && reply.status.code < 500)
            }
            let metrics = try await api.send(.get, "/metrics", as: nil).text
            #expect(metrics.contains(#"http_route="/v1/stories",http_request_method="_OTHER""#))
            #expect(!metrics.contains("QUERY") && !metrics.contains("BREW"))
        }
    }

    @Test func withoutTheDatabaseTheServerAnswers503() async throws {
        var url = try TestDatabase.serverURL
        url.port = 1
        let app = try buildApplication(
            ServerSettings(port: 0, database: url, databaseTimeout: .seconds(1)), logger: TestDatabase.logger)
        try await app.test(.ahc(.http)) { client in
            let clock = ContinuousClock()
            let start = clock.now
            for path in ["/ready", "/v1/stories"] {
                let response = try await client.executeRequest(
                    uri: path, method: .get, headers: [.authorization: "Bearer wd_x"], body: nil)
                #expect(response.status == .serviceUnavailable, "\(path)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[.retryAfter] != nil)
                #expect(String(buffer: response.body).contains("https://wiredesk.dev/problems/unavailable"))
            }
            // Each answer comes after the one-second wait for a connection, not after the minute the
            // pool would wait on its own; a loaded machine (CI builds and tests side by side) adds
            // seconds, never that minute.
            #expect(start.duration(to: clock.now) < .seconds(30))
            #expect(try await client.executeRequest(uri: "/health", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    @Test func requestIDsAreTakenWhenWellFormedAndRecorded() async throws {
        try await APIHarness.with { api in
            let good = try await api.send(
                .post, "/v1/stories", as: "rita", headers: [.requestID: "desk-42:a_b.c"], json: APIHarness.almatyJSON)
            #expect(good.headers[.requestID] == "desk-42:a_b.c")
            let bad = try await api.send(.get, "/health", as: nil, headers: [.requestID: "evil id; drop table"])
            let replaced = try #require(bad.headers[.requestID])
            #expect(UUID(uuidString: replaced) != nil)
            #expect(try await api.newsroom.count("SELECT count(*) FROM audit_events WHERE request_id = 'desk-42:a_b.c'") == 1)
        }
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}
