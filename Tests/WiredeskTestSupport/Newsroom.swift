import Foundation
import Logging
import PostgresNIO
import WiredeskCore

/// A migrated database with the services over it and one user of every role.
public struct Newsroom: Sendable {
    public let database: Database
    public var client: PostgresClient { database.client }
    public let url: DatabaseURL
    public let stories: StoryStore
    public let users: UserStore
    public var logger: Logger { TestDatabase.logger }

    public let reporter = Principal(name: "rita", role: .reporter, source: .cli)
    public let otherReporter = Principal(name: "ravi", role: .reporter, source: .cli)
    public let editor = Principal(name: "ed", role: .editor, source: .cli)
    public let publisher = Principal(name: "pat", role: .publisher, source: .cli)
    public let admin = Principal(name: "ada", role: .admin, source: .cli)
    public let auditor = Principal(name: "aud", role: .auditor, source: .cli)
    /// A feed script.
    public let feed = Principal(name: "wirebot", role: .ingest, source: .ingest)

    /// A partner system that takes the feed.
    public let subscriber = Principal(name: "partner", role: .subscriber, source: .cli)

    public var everyone: [Principal] { [reporter, otherReporter, editor, publisher, admin, auditor, feed, subscriber] }

    /// Runs `body` against a fresh newsroom, dropped afterwards.
    public static func with<T: Sendable>(_ body: @Sendable (Newsroom) async throws -> T) async throws -> T {
        try await TestDatabase.withMigratedDatabase { client, url in
            let newsroom = Newsroom(client: client, url: url)
            for principal in newsroom.everyone {
                _ = try await newsroom.users.add(
                    principal.name, role: principal.role, by: UserStore.console, logger: newsroom.logger)
            }
            return try await body(newsroom)
        }
    }

    init(client: PostgresClient, url: DatabaseURL) {
        // Tests run side by side on a small machine: a wait for a connection there says nothing
        // about the code under test, so it may be long.
        self.database = Database(client: client, maximumConnections: 20, acquireTimeout: .seconds(60))
        self.url = url
        self.stories = StoryStore(database: database)
        self.users = UserStore(database: database)
    }

    /// The Almaty story document from the fixtures.
    public static func almaty() throws -> StoryContent {
        try JSONCoding.decode(StoryContent.self, from: try TestDatabase.fixture("almaty.json"))
    }

    /// A story created by `by` (the reporter by default), then moved through `transitions`
    /// by the editor (or publisher, for publish).
    public func story(
        _ content: StoryContent? = nil, by: Principal? = nil, through transitions: [Transition] = []
    ) async throws -> Story {
        var story = try await stories.create(content ?? Self.almaty(), by: by ?? reporter, logger: logger)
        for transition in transitions {
            let reason: String? =
                switch transition {
                case .requestChanges: "needs a second source"
                case .kill: "Legal: withdraw this story"
                case .correct: "Corrects the number of arrests"
                default: nil
                }
            let patch: JSONValue? =
                transition == .correct ? .object(["standfirst": .string("Corrected \(story.version)")]) : nil
            story = try await stories.transition(
                story.id, transition, reason: reason, patch: patch, ifVersion: story.version, by: editor, logger: logger
            )
        }
        return story
    }

    /// Every audit event about one story, oldest first.
    public func events(of id: UUID) async throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        var before: Int64?
        repeat {
            let page = try await AuditLog.history(of: id, before: before, limit: 500, database: database, logger: logger)
            events += page.events
            before = page.next
        } while before != nil
        return events.reversed()
    }

    /// The audit trail of something that is not a story (`feed reuters`, `webhook 3`), oldest first.
    public func events(subject: String) async throws -> [(action: String, reason: String?)] {
        var events: [(action: String, reason: String?)] = []
        let rows = try await client.query(
            "SELECT action, reason FROM audit_events WHERE subject = \(subject) ORDER BY id", logger: logger)
        for try await (action, reason) in rows.decode((String, String?).self) { events.append((action, reason)) }
        return events
    }

    /// A scalar count from SQL, for assertions on what the database holds.
    public func count(_ query: PostgresQuery) async throws -> Int {
        try await Self.count(query, on: client)
    }

    /// A scalar count from SQL, through `client`.
    public static func count(_ query: PostgresQuery, on client: PostgresClient) async throws -> Int {
        for try await count in try await client.query(query, logger: TestDatabase.logger).decode(Int.self) {
            return count
        }
        return 0
    }
}
