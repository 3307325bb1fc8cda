import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

/// PATCH /v1/stories/{id}?reason=…: the edit's audit event says why.
@Suite struct EditReasonAPITests {
    static let patch = #"{"standfirst": "Oil output at Tengiz cut as Russian troops arrive"}"#

    @Test func aPercentEncodedReasonIsRecordedOnTheEdit() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let reason = "Adds the Tengiz figure — per Reuters, 7 Jan"
            let query = try #require(reason.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            let patched = try await api.send(
                .patch, "/v1/stories/\(id)?reason=\(query)", as: "rita", headers: [.ifMatch: "\"1\""],
                json: Self.patch, contentType: "application/merge-patch+json")
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched.etag == "\"2\"")

            let history = try await api.send(.get, "/v1/stories/\(id)/history", as: "aud")
            let events = try #require(try history.json["events"] as? [[String: Any]])
            #expect(events.first?["action"] as? String == "edit")
            #expect(events.first?["reason"] as? String == reason)

            // Without one (or blank), the event has none.
            let blank = try await api.send(
                .patch, "/v1/stories/\(id)?reason=%20%20", as: "rita", headers: [.ifMatch: "\"2\""],
                json: #"{"urgency": 2}"#)
            #expect(blank.status == .ok, "\(blank.text)")
            let latest = try await api.send(.get, "/v1/stories/\(id)/history?limit=1", as: "aud")
            let event = try #require((try latest.json["events"] as? [[String: Any]])?.first)
            #expect(event["version"] as? Int == 3)
            #expect(event["reason"] == nil)
        }
    }

    @Test func aBadReasonIs400AndWritesNothing() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let cases = [
                (String(repeating: "x", count: Limits.reason + 1), "at most 2000 characters"),
                ("Adds%01the%20figure", "control character U+0001"),
                ("Adds%C2%85it", "control character U+0085"),
            ]
            for (query, message) in cases {
                let reply = try await api.send(
                    .patch, "/v1/stories/\(id)?reason=\(query)", as: "rita", headers: [.ifMatch: "\"1\""],
                    json: Self.patch)
                #expect(reply.status == .badRequest, "\(query.prefix(20)): \(reply.text)")
                let (type, document) = try reply.problem
                #expect(type == "malformed")
                #expect(document["field"] as? String == "reason")
                #expect((document["detail"] as? String)?.contains(message) == true, "\(reply.text)")
            }
            // Latin-1, or broken percent-encoding: the runtime would read "" (no reason); refused.
            for query in ["Caf%E9", "%FF%FE"] {
                let reply = try await api.send(
                    .patch, "/v1/stories/\(id)?reason=\(query)", as: "rita", headers: [.ifMatch: "\"1\""],
                    json: Self.patch)
                #expect(reply.status == .badRequest, "\(query): \(reply.text)")
                #expect(try reply.problem.document["field"] as? String == "reason", "\(query)")
            }
            // The test's HTTP client would escape these itself: sent byte for byte.
            for query in ["50%", "%G1", "a%2"] {
                let socket = try RawHTTP(port: try #require(api.client.port))
                try socket.send(
                    "PATCH /v1/stories/\(id)?reason=\(query) HTTP/1.1\r\nHost: localhost\r\n"
                        + "Authorization: Bearer \(api.tokens["rita"]!)\r\nIf-Match: \"1\"\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(Self.patch.utf8.count)\r\n"
                        + "Connection: close\r\n\r\n\(Self.patch)")
                let response = try #require(await socket.response(timeout: .seconds(60)), "\(query)")
                #expect(response.hasPrefix("HTTP/1.1 400"), "\(query): \(response)")
                #expect(response.contains(#""field":"reason""#), "\(query): \(response)")
            }

            let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect(story.etag == "\"1\"")
            #expect(try story.json["standfirst"] == nil)
            #expect(try await api.newsroom.count("SELECT count(*) FROM audit_events WHERE story_id IS NOT NULL") == 1)
            #expect(try await api.newsroom.count("SELECT count(*) FROM revisions") == 1)
        }
    }
}
