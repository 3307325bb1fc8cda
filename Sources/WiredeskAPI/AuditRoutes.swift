import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import WiredeskCore

/// `GET /v1/audit` and `GET /v1/stories/{id}/history`, as described in openapi.yaml. These two are
/// written by hand: their pages are JSON written from the rows' bytes (`RenderedPage`), where the
/// generated server would decode rows into types and encode them again, at several times the cost
/// of the query. They run behind the same middleware (request id, problem documents, bearer
/// token) as the generated routes.
struct AuditRoutes {
    let database: Database

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/v1/audit") { request, _ -> Response in
            try await self.audit(request)
        }
        router.get("/v1/stories/{id}/history") { request, context -> Response in
            try await self.history(request, story: context.parameters.get("id") ?? "")
        }
    }

    private func audit(_ request: Request) async throws -> Response {
        try AuditQuery.authorize(try RequestScope.principal())
        let query = try QueryItems(request.uri)
        var source: ChangeSource?
        if let text = query["source"] {
            guard let value = ChangeSource(rawValue: text) else {
                throw WiredeskError.malformed(field: "source", "not one of the accepted values: \(text)")
            }
            source = value
        }
        let filters = try AuditQuery.parsing(
            story: query["story"], actor: query["actor"], action: query["action"], source: source,
            since: query["since"], until: query["until"], requestID: query["requestId"], bulk: query["bulk"])
        let page = try await filters.renderedPage(
            after: try query["cursor"].map(AuditQuery.Cursor.init(token:)), limit: try query.limit(default: 100),
            database: database, logger: RequestScope.logger)
        return Self.json(page)
    }

    private func history(_ request: Request, story: String) async throws -> Response {
        try RequestScope.reader()
        let id = try API.storyID(story)
        let query = try QueryItems(request.uri)
        var before: Int64?
        if let cursor = query["cursor"] {
            // The spec's pattern: 1 to 18 digits, no leading zero.
            guard let value = ASCII.number(cursor.utf8, maxDigits: 18, leadingZero: false) else {
                throw WiredeskError.malformed(field: "cursor", "not a cursor this server issued")
            }
            before = value
        }
        let page = try await AuditLog.renderedHistory(
            of: id, before: before, limit: try query.limit(default: 100), database: database,
            logger: RequestScope.logger)
        return Self.json(page)
    }

    private static func json(_ page: RenderedPage) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: page.body))
    }
}

/// A query string read as the generated routes read it (the spec's form style): `+` is a space,
/// values are percent-decoded, and a broken encoding is malformed (`QueryEncoding`).
struct QueryItems {
    private var items: [(name: String, value: String)] = []

    static let empty = QueryItems()

    private init() {}

    init(_ uri: URI) throws {
        try self.init(encoded: uri.query?[...] ?? "")
    }

    /// `name=value&…`, percent-encoded with `+` for a space: a query, or a form's body
    /// (application/x-www-form-urlencoded).
    init(encoded query: Substring) throws {
        guard !query.isEmpty else { return }
        try QueryEncoding.check(query)
        func decoded(_ text: Substring) -> String {
            let spaced = text.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        for item in query.split(separator: "&") {
            let (name, value) = item.firstIndex(of: "=").map { (item[..<$0], item[item.index(after: $0)...]) } ?? (item, "")
            items.append((decoded(name), decoded(value)))
        }
    }

    subscript(name: String) -> String? { items.first { $0.name == name }?.value }

    /// Every value given for `name`, in order.
    func all(_ name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }

    /// `limit`, a whole number; its range is the Core's to check.
    func limit(default value: Int) throws -> Int {
        guard let text = self["limit"] else { return value }
        guard let limit = ASCII.number(text.utf8, maxDigits: 9).map(Int.init) else {
            throw WiredeskError.malformed(field: "limit", "expected a whole number")
        }
        return limit
    }
}
