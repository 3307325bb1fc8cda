import Foundation
import HTTPTypes
import Testing
import WiredeskAPI
import WiredeskCore
import WiredeskTestSupport

/// `GET /v1/feed/stream`: the feed as Server-Sent Events, live and resumable.
@Suite struct FeedStreamAPITests {
    static func open(_ api: APIHarness, as user: String = "partner", query: String = "", headers: [String] = [])
        throws -> EventStreamClient
    {
        let port = try #require(api.client.port)
        return try EventStreamClient(
            port: port, path: "/v1/feed/stream\(query)", headers: ["Authorization: Bearer \(api.tokens[user]!)"] + headers)
    }

    static func item(_ event: EventStreamClient.Event?) throws -> [String: Any] {
        let data = try #require(event?.data, "no event")
        return try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any], "\(data)")
    }

    @Test func entriesArriveAsTheyCommitAndAReconnectResumesAfterTheLastEvent() async throws {
        try await APIHarness.with(feedStreams: FeedStreamLimits(heartbeat: .milliseconds(300))) { api in
            let stream = try Self.open(api)
            #expect(try await onOwnThread { try stream.status() } == 200)
            #expect(stream.head.lowercased().contains("content-type: text/event-stream"))
            #expect(stream.head.lowercased().contains("cache-control: no-store"))
            // A quiet stream speaks: the retry hint, then heartbeats.
            let quiet = try await onOwnThread { try stream.next(timeout: .seconds(5)) }
            #expect(quiet?.data == "" && quiet?.id == nil)
            let heartbeat = try await onOwnThread { try stream.next(timeout: .seconds(5)) }
            #expect(heartbeat?.comment == "heartbeat")

            let id = try await api.publishAlmaty()
            let published = try await onOwnThread { try stream.nextEvent(timeout: .seconds(60)) }
            let first = try Self.item(published)
            #expect(first["uri"] as? String == "urn:wiredesk:story:\(id)")
            #expect(first["pubStatus"] as? String == "usable")
            #expect(first["version"] as? String == "4")
            #expect(first["versionCreated"] != nil)
            let firstID = try #require(published?.id)

            // Each event's id is the feed cursor: the page after it is what the stream sends next.
            #expect(try await api.transition(id, "kill", as: "ed", version: 4, reason: "Legal: withdraw").status == .ok)
            let killed = try await onOwnThread { try stream.nextEvent(timeout: .seconds(60)) }
            let kill = try Self.item(killed)
            #expect(kill["pubStatus"] as? String == "canceled")
            #expect((kill["edNote"] as? String)?.contains("Legal: withdraw") == true)
            #expect(kill["bodies"] == nil)
            let page = try await api.send(.get, "/v1/feed?after=\(firstID)", as: "partner")
            let paged = try #require(try page.json["items"] as? [[String: Any]])
            #expect(paged.count == 1 && paged.first?["pubStatus"] as? String == "canceled")
            #expect(try page.json["nextCursor"] as? String == killed?.id)

            // A client that reconnects from the first event gets the kill and nothing before it;
            // one that starts over gets the publish as a tombstone: no killed copy for latecomers.
            let resumed = try Self.open(api, headers: ["Last-Event-ID: \(firstID)"])
            #expect(try await onOwnThread { try resumed.status() } == 200)
            let again = try await onOwnThread { try resumed.nextEvent(timeout: .seconds(30)) }
            #expect(again?.id == killed?.id)
            // An empty Last-Event-ID is none: `after` says where to start.
            let emptyID = try Self.open(api, query: "?after=\(firstID)", headers: ["Last-Event-ID: "])
            #expect(try await onOwnThread { try emptyID.status() } == 200)
            #expect(try await onOwnThread { try emptyID.nextEvent(timeout: .seconds(30)) }?.id == killed?.id)
            let fresh = try Self.open(api, query: "?after=0-0")
            #expect(try await onOwnThread { try fresh.status() } == 200)
            let tombstone = try Self.item(try await onOwnThread { try fresh.nextEvent(timeout: .seconds(30)) })
            #expect(tombstone["pubStatus"] as? String == "canceled")
            #expect(tombstone["headlines"] == nil && tombstone["bodies"] == nil)
        }
    }

    @Test func streamsHaveTheirOwnCapAndTheFeedsReaders() async throws {
        try await APIHarness.with(feedStreams: FeedStreamLimits(maximumStreams: 1, heartbeat: .milliseconds(200))) { api in
            let first = try Self.open(api, as: "ed")
            #expect(try await onOwnThread { try first.status() } == 200)
            _ = try await onOwnThread { try first.next() }  // the retry hint: the stream is open

            // The cap is the streams', not the connections': other requests are answered.
            let refused = try await api.send(.get, "/v1/feed/stream", as: "pat")
            #expect(refused.status == .serviceUnavailable)
            #expect(try refused.problem.document["rule"] as? String == "feed.streams")
            #expect(refused.headers[.retryAfter] != nil)
            #expect(try await api.send(.get, "/v1/feed", as: "pat").status == .ok)

            // A stream whose client went away gives its place back (noticed at the next heartbeat).
            first.close()
            try await eventually(within: .seconds(10), "a stream after the first closed") {
                let next = try Self.open(api, as: "pat")
                return try await onOwnThread { try next.status() } == 200
            }
        }
    }

    @Test func onlyTheFeedsReadersOpenAStreamAndBadPositionsAreNamed() async throws {
        try await APIHarness.with { api in
            for user in ["aud", "wirebot"] {
                let refused = try await api.send(.get, "/v1/feed/stream", as: user)
                #expect(refused.status == .forbidden, "\(user)")
                #expect(try refused.problem.document["rule"] as? String == "feed.role")
            }
            #expect(try await api.send(.get, "/v1/feed/stream", as: nil).status == .unauthorized)
            let badAfter = try await api.send(.get, "/v1/feed/stream?after=1", as: "partner")
            #expect(badAfter.status == .badRequest)
            let badLast = try await api.send(
                .get, "/v1/feed/stream", as: "partner", headers: [HTTPField.Name("Last-Event-ID")!: "x"])
            #expect(badLast.status == .badRequest)
            #expect(try badLast.problem.document["detail"] as? String ?? "" != "")
            #expect(try await api.send(.post, "/v1/feed/stream", as: "partner", json: "{}").status == .methodNotAllowed)
        }
    }
}
