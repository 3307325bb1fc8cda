import Foundation
import HTTPTypes
import OpenAPIRuntime
import WiredeskCore

/// swift-openapi-runtime reads a query value whose percent-encoding is broken, or whose bytes are
/// not UTF-8, as an empty string: an edit's reason sent in Latin-1 (`%E9`) would vanish from the
/// audit trail unseen. Such a query is malformed (400), naming the parameter.
struct QueryEncoding: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if let path = request.path, let mark = path.utf8.firstIndex(of: UInt8(ascii: "?")) {
            try Self.check(path[path.utf8.index(after: mark)...])
        }
        return try await next(request, body, metadata)
    }

    static func check(_ query: Substring) throws {
        for item in query.split(separator: "&") {
            let (name, value) = item.firstIndex(of: "=").map { (item[..<$0], item[item.index(after: $0)...]) } ?? (item, "")
            guard let field = name.removingPercentEncoding else {
                throw WiredeskError.malformed(field: "", "a query parameter's name is not percent-encoded UTF-8")
            }
            guard value.removingPercentEncoding != nil else {
                throw WiredeskError.malformed(field: field, "not percent-encoded UTF-8")
            }
        }
    }
}
