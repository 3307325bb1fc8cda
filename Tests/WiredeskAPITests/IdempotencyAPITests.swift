import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `Idempotency-Key` on the writes a script retries: create, transitions, ingest.
@Suite struct IdempotencyAPITests {
    static let key = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    @Test func aCreateAndAPublishRetriedWithOneKeyMakeOneStoryAndOnePublish() async throws {
        try await APIHarness.with { api in
            let first = try await api.send(
                .post, "/v1/stories", as: "rita", headers: [Self.key: "create-1"], json: APIHarness.almatyJSON)
            #expect(first.status == .created, "\(first.text)")
            #expect(first.headers[Self.replayed] == nil)
            // The response was lost; the script sends it again.
            let retry = try await api.send(
                .post, "/v1/stories", as: "rita", headers: [Self.key: "create-1"], json: APIHarness.almatyJSON)
            #expect(retry.status == .created)
            #expect(retry.headers[Self.replayed] == "true")
            #expect(retry.body == first.body)
            #expect(retry.etag == first.etag)
            #expect(retry.headers[.location] == first.headers[.location])
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 1)
            let id = try #require(try first.json["id"] as? String)

            #expect(try await api.transition(id, "submit", as: "rita", version: 1).status == .ok)
            #expect(try await api.transition(id, "approve", as: "ed", version: 2).status == .ok)
            func publish() async throws -> APIHarness.Reply {
                try await api.send(
                    .post, "/v1/stories/\(id)/transitions", as: "pat",
                    headers: [.ifMatch: "\"3\"", Self.key: "publish-\(id)"], json: #"{"transition":"publish"}"#)
            }
            let published = try await publish()
            #expect(published.status == .ok, "\(published.text)")
            let again = try await publish()
            #expect(again.status == .ok)
            #expect(again.headers[Self.replayed] == "true")
            #expect(again.body == published.body)
            #expect(
                try await api.newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'publish'") == 1)
            #expect(try await api.newsroom.count("SELECT count(*) FROM feed_entries") == 1)
            // Without the key, the same request is what it is: a write on a version that has moved on.
            let unkeyed = try await api.send(
                .post, "/v1/stories/\(id)/transitions", as: "pat", headers: [.ifMatch: "\"3\""],
                json: #"{"transition":"publish"}"#)
            #expect(unkeyed.status == .preconditionFailed)
        }
    }

    @Test func concurrentDuplicatesWaitForTheFirstAndGetItsAnswer() async throws {
        try await APIHarness.with { api in
            let replies = try await withThrowingTaskGroup(of: APIHarness.Reply.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await api.send(
                            .post, "/v1/stories", as: "ed", headers: [Self.key: "burst"], json: APIHarness.almatyJSON)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .created }, "\(replies.map(\.status))")
            #expect(Set(replies.map(\.body)).count == 1)
            #expect(replies.filter { $0.headers[Self.replayed] == nil }.count == 1)
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 1)
        }
    }

    @Test func aKeyReusedForAnotherRequestIsRefusedAndRefusalsAreNotKept() async throws {
        try await APIHarness.with { api in
            let made = try await api.send(
                .post, "/v1/stories", as: "rita", headers: [Self.key: "k"], json: APIHarness.almatyJSON)
            #expect(made.status == .created)
            let other = try await api.send(
                .post, "/v1/stories", as: "rita", headers: [Self.key: "k"],
                json: #"{"headline": "Another story", "body": []}"#)
            #expect(other.status == .unprocessableContent, "\(other.text)")
            #expect(try other.problem.document["rule"] as? String == "idempotency-key.reuse")
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 1)
            // A request wrong in itself is refused as such, whatever key it reuses.
            let noIfMatch = try await api.send(
                .post, "/v1/stories/\(try #require(try made.json["id"] as? String))/transitions", as: "rita",
                headers: [Self.key: "k"], json: #"{"transition":"submit"}"#)
            #expect(noIfMatch.status == .preconditionRequired, "\(noIfMatch.text)")
            // The same key is another user's own.
            #expect(
                try await api.send(.post, "/v1/stories", as: "ed", headers: [Self.key: "k"], json: APIHarness.almatyJSON)
                    .status == .created)

            // A refusal changes nothing and keeps nothing: once allowed, the same key does the work.
            let id = try #require(try made.json["id"] as? String)
            let submit = #"{"transition":"submit"}"#
            let refused = try await api.send(
                .post, "/v1/stories/\(id)/transitions", as: "ravi", headers: [.ifMatch: "\"1\"", Self.key: "s"],
                json: submit)
            #expect(refused.status == .forbidden)
            #expect(try await api.newsroom.count("SELECT count(*) FROM idempotency_keys WHERE key = 's'") == 0)

            for bad in ["", "two words", String(repeating: "x", count: 256)] {
                let reply = try await api.send(
                    .post, "/v1/stories", as: "rita", headers: [Self.key: bad], json: APIHarness.almatyJSON)
                #expect(reply.status == .badRequest, "\(bad): \(reply.text)")
            }
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 2)
        }
    }

    @Test func anIngestRetriedWithItsKeyIsAnsweredAsTheFirst() async throws {
        try await APIHarness.with { api in
            let wire = Array(try TestDatabase.fixture("reuters-almaty-2022-01-07.txt"))
            let first = try await api.send(
                .post, "/v1/ingest", as: "wirebot", headers: [Self.key: "wire-1"], bytes: wire, contentType: "text/plain")
            #expect(first.status == .created, "\(first.text)")
            let again = try await api.send(
                .post, "/v1/ingest", as: "wirebot", headers: [Self.key: "wire-1"], bytes: wire, contentType: "text/plain")
            #expect(again.status == .created)
            #expect(again.body == first.body)
            #expect(again.headers[Self.replayed] == "true")
            #expect(try await api.newsroom.count("SELECT count(*) FROM ingest_items") == 1)
        }
    }
}
