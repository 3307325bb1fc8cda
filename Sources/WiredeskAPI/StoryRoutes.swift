import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WiredeskCore

/// `GET /v1/stories` and `GET /v1/stories/{id}`, as described in openapi.yaml, written by hand:
/// they are the routes desks and scripts call most, and their JSON comes from PostgreSQL ready to
/// send (`StoryStore.rendered`, `StorySearch`), where the generated server would decode it and
/// encode it again. They run behind the same middleware (request id, access log,
/// problem documents, bearer token, caps) as the generated routes.
struct StoryRoutes {
    let stories: StoryStore

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/v1/stories") { request, _ -> Response in
            try await self.list(request)
        }
        router.get("/v1/stories/{id}") { request, context -> Response in
            try await self.story(request, id: context.parameters.get("id") ?? "")
        }
    }

    private func list(_ request: Request) async throws -> Response {
        let principal = try RequestScope.principal()
        let query = try QueryItems(request.uri)
        let filters = try StoryQuery.parsing { query[$0] }
        let page = try await StorySearch(database: stories.database).page(
            filters, after: try query["cursor"].map { try StoryQuery.Cursor(token: $0, order: filters.effectiveOrder) },
            limit: try query.limit(default: 50), full: try FilterValue.bool(query["full"], "full") ?? false,
            by: principal, logger: RequestScope.logger)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: page.body))
    }

    private func story(_ request: Request, id: String) async throws -> Response {
        try RequestScope.reader()
        let id = try API.storyID(id)
        let format = try Self.format(QueryItems(request.uri)["format"], accept: request.headers[.accept])
        guard let ninjs = format else {
            let story = try await stories.rendered(id, logger: RequestScope.logger)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .eTag: "\"\(story.version)\""],
                body: .init(byteBuffer: story.json))
        }
        let story = try await stories.story(id, logger: RequestScope.logger)
        let item = try await Offload.run(.general) { try JSONCoding.encode(Ninjs.export(story, as: ninjs)) }
        return Response(
            status: .ok,
            headers: [.contentType: "application/ninjs+json; charset=utf-8", .eTag: "\"\(story.version)\""],
            body: .init(byteBuffer: ByteBuffer(bytes: item)))
    }

    /// The story's own JSON (nil) or a ninjs version: `format` when given, otherwise ninjs 3 when
    /// `Accept` names ninjs and not JSON. The one chosen must be one `Accept` allows (406).
    static func format(_ query: String?, accept: String?) throws -> Ninjs.ExportVersion? {
        let ranges = try MediaRange.list(accept)
        let chosen: Ninjs.ExportVersion?
        switch query {
        case nil: chosen = ranges.contains(.ninjs) && !ranges.contains(.json) ? .v3 : nil
        case "json": chosen = nil
        case "ninjs", "ninjs3": chosen = .v3
        case "ninjs2": chosen = .v2
        case let value?: throw WiredeskError.malformed(field: "format", "not one of the accepted values: \(value)")
        }
        let type: MediaRange = chosen == nil ? .json : .ninjs
        guard ranges.isEmpty || ranges.contains(where: { $0.admits(type) }) else {
            throw Problem(
                .notAcceptable, kind: "not-acceptable",
                detail: "Response content type not acceptable, content type: \(type), accepted: \(accept ?? "")")
        }
        return chosen
    }
}

/// A media range of an `Accept` header (RFC 9110 §12.5.1), without its parameters: a quality
/// does not change which of a route's types it names.
struct MediaRange: Equatable, CustomStringConvertible {
    var type: Substring
    var subtype: Substring

    static let json = MediaRange(type: "application", subtype: "json")
    static let ninjs = MediaRange(type: "application", subtype: "ninjs+json")

    var description: String { "\(type)/\(subtype)" }

    func admits(_ other: MediaRange) -> Bool {
        (type == "*" || type == other.type) && (subtype == "*" || subtype == other.subtype)
    }

    /// The ranges of a header; none for a missing or blank one. A range that is not
    /// `type/subtype` is malformed (400).
    static func list(_ header: String?) throws -> [MediaRange] {
        guard let header else { return [] }
        return try header.lowercased().split(separator: ",").compactMap { element in
            let range = (element.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
            if range.isEmpty && element.allSatisfy({ $0 == " " || $0 == "\t" }) { return nil }
            let parts = range.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(ASCII.isToken) }) else {
                throw WiredeskError.malformed(field: "Accept", "Malformed Accept header: \(header)")
            }
            return MediaRange(type: Substring(parts[0]), subtype: Substring(parts[1]))
        }
    }
}
