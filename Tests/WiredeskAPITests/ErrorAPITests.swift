import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Every error status the API promises, each as a problem document with a stable type, and none
/// of them changing anything.
@Suite struct ErrorAPITests {
    @Test func malformedInputIs400WithTheFieldAtFault() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let farFuture = Data("9223372036854775807/00000000-0000-0000-0000-000000000000".utf8).base64EncodedString()
            let cases: [(HTTPRequest.Method, String, String?, String?, String?)] = [
                (.post, "/v1/stories", #"{"headline": "#, nil, nil),
                (.post, "/v1/stories", #"{"headline": "x", "headlines": "y"}"#, "headlines", nil),
                (.post, "/v1/stories", #"{"urgency": "high"}"#, "urgency", nil),
                (.post, "/v1/stories", #"{"pictures": [{"caption": "c", "credit": "x"}]}"#, "pictures[0].credit", nil),
                (.post, "/v1/stories", #"{"embargo": "next tuesday"}"#, "embargo", nil),
                (.post, "/v1/stories", #"{"embargo": "2026-01-07 09:30:00Z"}"#, "embargo", nil),
                (.post, "/v1/stories", #"[1, 2]"#, nil, nil),
                (.get, "/v1/stories/not-a-uuid", nil, "id", nil),
                (.get, "/v1/stories?cursor=bm9wZQ", nil, "cursor", nil),
                // A forged cursor far past year 9999 once trapped converting back to microseconds.
                (.get, "/v1/stories?cursor=\(farFuture)", nil, "cursor", nil),
                (.get, "/v1/stories?cursor=123456789012345678-\(id)", nil, "cursor", nil),
                (.get, "/v1/stories?cursor=1-\(id.uppercased())", nil, "cursor", nil),
                (.get, "/v1/stories/\(id)/history?cursor=007", nil, "cursor", nil),
                (.get, "/v1/stories/\(id)/history?cursor=%2B7", nil, "cursor", nil),
                (.get, "/v1/stories?limit=0", nil, "limit", nil),
                (.get, "/v1/stories?state=live", nil, nil, nil),
                (.get, "/v1/stories/\(id)/revisions/abc", nil, nil, nil),
                (.patch, "/v1/stories/\(id)", #"{"headLine": "x"}"#, "headLine", "\"1\""),
                (.patch, "/v1/stories/\(id)", #"{"state": "published"}"#, "state", "\"1\""),
                (.patch, "/v1/stories/\(id)", #"{"standfirst": "x"}"#, "If-Match", "W/\"one\""),
                // An ETag is quoted: a bare number is not one.
                (.patch, "/v1/stories/\(id)", #"{"standfirst": "x"}"#, "If-Match", "1"),
                (.patch, "/v1/stories/\(id)", #"{"standfirst": "x"}"#, "If-Match", "\"01\""),
                (.post, "/v1/stories/\(id)/transitions", #"{"transition": "publsh"}"#, "transition", "\"1\""),
                (.post, "/v1/stories/\(id)/transitions", #"{"transition": "submit", "why": "x"}"#, "why", "\"1\""),
            ]
            for (method, path, json, field, ifMatch) in cases {
                let headers: HTTPFields = ifMatch.map { [.ifMatch: $0] } ?? [:]
                let reply = try await api.send(method, path, headers: headers, json: json)
                #expect(reply.status == .badRequest, "\(method) \(path) \(json ?? ""): \(reply.text)")
                let (type, document) = try reply.problem
                #expect(type == "malformed", "\(path) \(json ?? "")")
                if let field { #expect(document["field"] as? String == field, "\(json ?? path): \(reply.text)") }
            }
            // Well-formed, as the spec describes them, but not acceptable: 422, whatever the version.
            let unprocessable: [(HTTPRequest.Method, String, String, String, String?)] = [
                // Instants a four-digit UTC year cannot write (the answer would break its own schema).
                (.post, "/v1/stories", #"{"embargo": "0001-01-01T00:00:00+01:00"}"#, "embargo", nil),
                (.post, "/v1/stories", #"{"embargo": "9999-12-31T23:59:59-01:00"}"#, "embargo", nil),
                (.post, "/v1/stories", #"{"embargo": "2026-02-30T09:30:00Z"}"#, "embargo", nil),
                (.patch, "/v1/stories/\(id)", #"{"embargo": "2026-02-30T09:30:00Z"}"#, "embargo", "\"9\""),
                (.post, "/v1/stories/\(id)/transitions", #"{"transition": "submit", "patch": {"headline": "x"}}"#, "patch", "\"1\""),
            ]
            for (method, path, json, field, ifMatch) in unprocessable {
                let headers: HTTPFields = ifMatch.map { [.ifMatch: $0] } ?? [:]
                let reply = try await api.send(method, path, headers: headers, json: json)
                #expect(reply.status == .unprocessableContent, "\(method) \(path) \(json): \(reply.text)")
                #expect(try reply.problem.type == "validation")
                #expect(try reply.json["field"] as? String == field, "\(json): \(reply.text)")
            }
            let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect(story.etag == "\"1\"")
        }
    }

    @Test func invalidUTF8NeverReachesTheDatabase() async throws {
        try await APIHarness.with { api in
            let bytes: [UInt8] = Array(#"{"headline": ""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#""}"#.utf8)
            let reply = try await api.send(.post, "/v1/stories", as: "rita", bytes: bytes)
            #expect(reply.status == .badRequest)
            #expect(try reply.problem.type == "malformed")
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 0)
        }
    }

    @Test func authenticationFailuresAre401() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            var replies = [
                try await api.send(.get, "/v1/stories/\(id)", as: nil),
                try await api.send(.get, "/v1/stories/\(id)", as: nil, headers: [.authorization: "Basic ZWQ6cGFzcw=="]),
                try await api.send(.get, "/v1/stories/\(id)", as: nil, headers: [.authorization: "Bearer wd_not-a-token"]),
            ]
            let revoked = try await api.newsroom.users.tokens(of: "aud", logger: api.newsroom.logger)[0]
            _ = try await api.newsroom.users.revokeToken(revoked.id, by: api.newsroom.admin, logger: api.newsroom.logger)
            replies.append(try await api.eventually(.unauthorized, .get, "/v1/stories/\(id)", as: "aud"))
            _ = try await api.newsroom.users.disable("rita", by: api.newsroom.admin, logger: api.newsroom.logger)
            replies.append(try await api.eventually(.unauthorized, .get, "/v1/stories", as: "rita"))
            replies.append(try await api.send(.post, "/v1/stories", as: "rita", json: APIHarness.almatyJSON))
            for reply in replies {
                #expect(reply.status == .unauthorized, "\(reply.text)")
                #expect(try reply.problem.type == "unauthenticated")
                #expect(reply.headers[.wwwAuthenticate] == #"Bearer realm="wiredesk""#)
            }
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 1)
        }
    }

    @Test func workflowRefusalsNameTheirRule() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let forbidden = try await api.transition(id, "approve", as: "rita", version: 1)
            #expect(forbidden.status == .forbidden)
            #expect(try forbidden.problem.type == "forbidden")
            #expect(try forbidden.json["rule"] as? String == "approve.role")

            let auditorWrite = try await api.send(.post, "/v1/stories", as: "aud", json: APIHarness.almatyJSON)
            #expect(auditorWrite.status == .forbidden)
            #expect(try auditorWrite.json["rule"] as? String == "create.role")

            let wrongState = try await api.transition(id, "publish", as: "ed", version: 1)
            #expect(wrongState.status == .conflict)
            #expect(try wrongState.problem.type == "invalid-transition")
            #expect(try wrongState.json["rule"] as? String == "publish.state")

            let noReason = try await api.transition(id, "request_changes", as: "ed", version: 1)
            #expect(noReason.status == .conflict)  // from draft: the state refuses first

            let headless = try await api.send(
                .post, "/v1/stories", as: "rita", json: #"{"body": [{"kind": "paragraph", "text": "Copy."}]}"#)
            let headlessID = try #require(try headless.json["id"] as? String)
            let unmet = try await api.transition(headlessID, "submit", as: "rita", version: 1)
            #expect(unmet.status == .unprocessableContent)
            #expect(try unmet.problem.type == "unmet-requirement")
            #expect(try unmet.json["rule"] as? String == "submit.headline")

            let embargoed = try await api.send(
                .post, "/v1/stories", as: "rita",
                json:
                    #"{"headline": "Embargoed", "source": "Reuters", "embargo": "2099-01-01T00:00:00Z", "body": [{"kind": "paragraph", "text": "Copy."}]}"#
            )
            let embargoedID = try #require(try embargoed.json["id"] as? String)
            #expect(try await api.transition(embargoedID, "submit", as: "rita", version: 1).status == .ok)
            #expect(try await api.transition(embargoedID, "approve", as: "ed", version: 2).status == .ok)
            let early = try await api.transition(embargoedID, "publish", as: "pat", version: 3)
            #expect(early.status == .conflict)
            #expect(try early.problem.type == "embargo")
            #expect(try early.json["rule"] as? String == "publish.embargo")

            let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect(story.etag == "\"1\"")
        }
    }

    @Test func notFoundStaleAndMissingPreconditions() async throws {
        try await APIHarness.with { api in
            let id = try await api.createAlmaty()
            let missing = try await api.send(.get, "/v1/stories/\(UUID().uuidString)", as: "aud")
            #expect(missing.status == .notFound)
            #expect(try missing.problem.type == "not-found")
            #expect(try await api.send(.get, "/v1/stories/\(id)/revisions/9", as: "aud").status == .notFound)
            #expect(try await api.send(.get, "/v1/stories/\(UUID().uuidString)/history", as: "aud").status == .notFound)

            let noIfMatch = try await api.send(.patch, "/v1/stories/\(id)", json: #"{"standfirst": "x"}"#)
            #expect(noIfMatch.status == .preconditionRequired)
            #expect(try noIfMatch.problem.type == "precondition-required")
            let noIfMatchTransition = try await api.send(
                .post, "/v1/stories/\(id)/transitions", as: "rita", json: #"{"transition": "submit"}"#)
            #expect(noIfMatchTransition.status == .preconditionRequired)

            let stale = try await api.send(
                .patch, "/v1/stories/\(id)", headers: [.ifMatch: "\"4\""], json: #"{"standfirst": "x"}"#)
            #expect(stale.status == .preconditionFailed)
            #expect(try stale.problem.type == "stale-version")
            #expect(try stale.json["currentVersion"] as? Int == 1)
            // Input wrong in itself is refused as such, whoever sends it and whatever version it
            // names: the workflow's refusal of this user and the stale version come after.
            let wrongType = try await api.send(
                .patch, "/v1/stories/\(id)", as: "aud", headers: [.ifMatch: "\"509\""],
                json: #"{"body": [{"kind": "paragraph", "text": -17715614}]}"#)
            #expect(wrongType.status == .badRequest, "\(wrongType.text)")
            #expect(try wrongType.problem.type == "malformed")

            let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect(story.etag == "\"1\"")
            #expect(try story.json["standfirst"] == nil)
        }
    }

    @Test func limitsAndMediaTypes() async throws {
        try await APIHarness.with(maximumBodySize: 64 * 1024) { api in
            let huge = "{\"headline\": \"" + String(repeating: "a", count: 100_000) + "\"}"
            let tooLarge = try await api.send(.post, "/v1/stories", as: "rita", json: huge)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try tooLarge.problem.type == "too-large")

            let tooLong = try await api.send(
                .post, "/v1/stories", as: "rita", json: "{\"headline\": \"\(String(repeating: "a", count: 301))\"}")
            #expect(tooLong.status == .unprocessableContent)
            #expect(try tooLong.problem.type == "validation")
            #expect(try tooLong.json["field"] as? String == "headline")

            let caption = try await api.send(
                .post, "/v1/stories", as: "rita",
                json: "{\"pictures\": [{\"caption\": \"\(String(repeating: "c", count: 2001))\"}]}")
            #expect(caption.status == .unprocessableContent)
            #expect(try caption.json["field"] as? String == "pictures[0].caption")

            let plain = try await api.send(.post, "/v1/stories", as: "rita", json: "headline", contentType: "text/plain")
            #expect(plain.status == .unsupportedMediaType)
            #expect(try plain.problem.type == "unsupported-media-type")

            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 0)
        }
    }

    @Test func noErrorLeaksInternals() async throws {
        try await APIHarness.with { api in
            let probes: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/v1/stories", #"{"headline": "'; DROP TABLE stories; --"}"#),
                (.get, "/v1/stories/'%20OR%201=1", nil),
                (.post, "/v1/stories", #"{"headline": "\u0000"}"#),
                (.get, "/v1/stories?limit=99999999999999999999", nil),
            ]
            for (method, path, json) in probes {
                let reply = try await api.send(method, path, as: "rita", json: json)
                #expect(reply.status.code < 500, "\(path): \(reply.text)")
                for leak in ["PSQL", "Postgres", "SELECT", ".swift", "Error(", "underlying"] {
                    #expect(!reply.text.contains(leak), "\(path): \(reply.text)")
                }
            }
            #expect(try await api.newsroom.count("SELECT count(*) FROM pg_tables WHERE tablename = 'stories'") == 1)
        }
    }
}
