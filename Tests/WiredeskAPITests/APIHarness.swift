import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing
import WiredeskAPI
import WiredeskCore
import WiredeskTestSupport

/// A live server on a free port over a fresh newsroom, with a token for every user. It delivers
/// webhooks only when a test asks (`webhooks:`), and works no feeds: tests run side by side on a
/// small machine.
struct APIHarness: Sendable {
    let newsroom: Newsroom
    let client: any TestClientProtocol
    let tokens: [String: String]

    static func with(
        maximumBodySize: Int = 1 << 20, feedStreams: FeedStreamLimits = FeedStreamLimits(),
        webhooks: WebhookSettings = WebhookSettings(enabled: false), publicURL: URL? = nil,
        signIn: SignInLimits = SignInLimits(), _ body: @Sendable (APIHarness) async throws -> Void
    ) async throws {
        try await Newsroom.with { newsroom in
            var tokens: [String: String] = [:]
            for user in newsroom.everyone {
                tokens[user.name] = try await newsroom.users.createToken(
                    for: user.name, by: newsroom.admin, logger: newsroom.logger
                ).token
            }
            let app = try buildApplication(
                ServerSettings(
                    port: 0, database: newsroom.url, maximumConnections: 6, maximumBodySize: maximumBodySize,
                    databaseTimeout: .seconds(60), feedStreams: feedStreams, webhooks: webhooks,
                    ingest: IngestSettings(enabled: false), publicURL: publicURL, signIn: signIn),
                logger: TestDatabase.logger)
            let frozenTokens = tokens
            try await app.test(.ahc(.http)) { client in
                try await body(APIHarness(newsroom: newsroom, client: client, tokens: frozenTokens))
            }
        }
    }

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: Data

        var json: [String: Any] {
            get throws {
                try #require(
                    try JSONSerialization.jsonObject(with: body) as? [String: Any], "\(String(decoding: body, as: UTF8.self))")
            }
        }
        var text: String { String(decoding: body, as: UTF8.self) }
        var etag: String? { headers[.eTag] }

        /// A problem document: checks the media type and returns type (without the base), and the document.
        var problem: (type: String, document: [String: Any]) {
            get throws {
                #expect(headers[.contentType] == "application/problem+json", "\(text)")
                let document = try json
                let type = try #require(document["type"] as? String)
                #expect(document["status"] as? Int == status.code)
                return (String(type.dropFirst("https://wiredesk.dev/problems/".count)), document)
            }
        }
    }

    /// The tests' own client, rather than the test framework's, whose deadline is a fixed 15 s: at
    /// the start of the full suite, with every test starting at once on two cores, a request may
    /// wait longer than that for the machine, which says nothing of the code under test.
    static let http = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled))
    static let requestTimeout: TimeAmount = .seconds(90)

    /// Sends a request as `user` (nil: no Authorization header).
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ path: String, as user: String? = "ed", headers: HTTPFields = [:],
        json: String? = nil, bytes: [UInt8]? = nil, contentType: String = "application/json"
    ) async throws -> Reply {
        var headers = headers
        if let user { headers[.authorization] = "Bearer \(tokens[user]!)" }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(string: json) }
        if let bytes { body = ByteBuffer(bytes: bytes) }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = contentType }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(client.port))\(path)")
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        if let body { request.body = .bytes(body) }
        let response = try await Self.http.execute(request, timeout: Self.requestTimeout)
        let bytes = try await response.body.collect(upTo: 256 << 20)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Reply(status: .init(code: Int(response.status.code)), headers: fields, body: Data(buffer: bytes))
    }

    /// Sends the request until its answer has `status`, which any request sent a second after an
    /// admin's change must have: a server acts on a token it verified for half a second
    /// (`TokenCache`).
    func eventually(
        _ status: HTTPResponse.Status, _ method: HTTPRequest.Method, _ path: String, as user: String
    ) async throws -> Reply {
        try await eventually(status, "\(method) \(path) as \(user)") { try await send(method, path, as: user) }
    }

    /// Makes the request until its answer has `status` (see above).
    func eventually(
        _ status: HTTPResponse.Status, _ what: String, _ request: () async throws -> Reply
    ) async throws -> Reply {
        var reply: Reply?
        try await WiredeskTestSupport.eventually(within: Self.tokenCacheDelay, "\(status) for \(what)") {
            reply = try await request()
            return reply?.status == status
        }
        return reply!
    }

    /// The longest a server may act on a user's old standing after an admin changes it.
    static let tokenCacheDelay: Duration = .seconds(1)

    /// Creates the Almaty story as `user` and returns its id.
    func createAlmaty(as user: String = "rita") async throws -> String {
        let reply = try await send(.post, "/v1/stories", as: user, json: Self.almatyJSON)
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(try reply.json["id"] as? String)
    }

    /// Creates, submits, approves and publishes the Almaty story; returns its id.
    func publishAlmaty() async throws -> String {
        let id = try await createAlmaty(as: "rita")
        #expect(try await transition(id, "submit", as: "rita", version: 1).status == .ok)
        #expect(try await transition(id, "approve", as: "ed", version: 2).status == .ok)
        #expect(try await transition(id, "publish", as: "pat", version: 3).status == .ok)
        return id
    }

    func transition(_ id: String, _ transition: String, as user: String = "ed", version: Int, reason: String? = nil)
        async throws -> Reply
    {
        var body: [String: Any] = ["transition": transition]
        if let reason { body["reason"] = reason }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await send(.post, "/v1/stories/\(id)/transitions", as: user, headers: [.ifMatch: "\"\(version)\""], json: json)
    }

    static let almatyJSON = String(decoding: try! TestDatabase.fixture("almaty.json"), as: UTF8.self)
}
