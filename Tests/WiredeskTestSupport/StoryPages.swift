import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import WiredeskCore

/// Pages of `GET /v1/stories` as the tests read them: every page of a query followed to the end.
public enum StoryPages {
    public static let reader = Principal(name: "console", role: .admin, source: .cli)

    /// Every page of `query`, each as its items' JSON objects.
    public static func pages(
        _ query: StoryQuery = StoryQuery(), limit: Int = 500, full: Bool = false, maximumBytes: Int = 4 << 20,
        database: Database, logger: Logger
    ) async throws -> [[[String: JSONValue]]] {
        let search = StorySearch(database: database)
        var pages: [[[String: JSONValue]]] = []
        var cursor: StoryQuery.Cursor?
        repeat {
            let page = try await search.page(
                query, after: cursor, limit: limit, full: full, maximumBytes: maximumBytes, by: reader, logger: logger)
            pages.append(try page.items.map { item in
                guard case .object(let fields) = try JSONCoding.decode(JSONValue.self, from: Data(buffer: item)) else {
                    throw WiredeskError.malformed(field: "", "not an object: \(String(buffer: item))")
                }
                return fields
            })
            cursor = page.next
        } while cursor != nil
        return pages
    }

    /// The ids `query` finds, in its order, every page followed.
    public static func ids(
        _ query: StoryQuery = StoryQuery(), limit: Int = 500, database: Database, logger: Logger
    ) async throws -> [UUID] {
        try await pages(query, limit: limit, database: database, logger: logger).joined().map {
            guard case .string(let id)? = $0["id"], let uuid = UUID(uuidString: id) else {
                throw WiredeskError.malformed(field: "id", "no id in \($0)")
            }
            return uuid
        }
    }

    /// Every story, newest first, as stored.
    public static func all(database: Database, logger: Logger) async throws -> [Story] {
        let store = StoryStore(database: database)
        var stories: [Story] = []
        for id in try await ids(database: database, logger: logger) {
            stories.append(try await store.story(id, logger: logger))
        }
        return stories
    }
}
