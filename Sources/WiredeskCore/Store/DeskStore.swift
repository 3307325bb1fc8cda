import Foundation
import Logging
import PostgresNIO

/// Desks (`desks`) and the rules that route new agency copy to them (`desk_routes`), migration
/// 0015. Admins add desks and rules, audited; editors move stories between desks
/// (`StoryStore.assign`).
public struct DeskStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public struct Desk: Codable, Sendable, Equatable {
        public var name: String
        public var title: String
        public var createdAt: Date
        public var createdBy: String
    }

    /// Copy whose agency (`source`) or one of whose keywords or subject names (`keyword`) is `value`,
    /// compared without case, goes to `desk`. Rules are tried in the order they were added.
    public struct Route: Codable, Sendable, Equatable {
        public enum Field: String, Codable, CaseIterable, Sendable {
            case source, keyword
        }

        public var id: Int64
        public var desk: String
        public var field: Field
        public var value: String
        public var createdAt: Date
        public var createdBy: String

        public func matches(_ content: StoryContent) -> Bool {
            let value = self.value.lowercased()
            switch field {
            case .source:
                return content.source?.lowercased() == value
            case .keyword:
                return content.keywords.contains { $0.lowercased() == value }
                    || content.subjects.contains { $0.name?.lowercased() == value }
            }
        }

        /// Why the story went where it did, as the create event's reason says it.
        public var explanation: String {
            "routed to desk \(desk) by rule \(id) (\(field.rawValue) \(value))"
        }
    }

    // MARK: Desks

    public func add(_ name: String, title: String, by principal: Principal, logger: Logger) async throws -> Desk {
        try UserStore.checkAdmin(principal, to: "manage desks")
        var v = Validator()
        if name.range(of: "^[a-z0-9][a-z0-9._-]{0,63}$", options: .regularExpression) == nil {
            v.fail("name", "use 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
        }
        v.line(title, "title", max: 100)
        if title.allSatisfy(\.isWhitespace) { v.fail("title", "must not be blank") }
        try v.finish()
        try await database.transaction(logger: logger) { connection in
            let added = try await connection.rows(
                """
                INSERT INTO desks (name, title, created_by) VALUES (\(name), \(title), \(principal.name))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger)
            guard !added.isEmpty else { throw WiredeskError(.conflict, "there is a desk \(name) already") }
            try await AuditLog.record(
                AuditEntry(principal: principal, action: "desk.add", reason: title, subject: "desk \(name)"),
                on: connection, logger: logger)
        }
        return try await desks(logger: logger).first { $0.name == name }!
    }

    public func desks(logger: Logger) async throws -> [Desk] {
        try await database.rows("SELECT name, title, created_at, created_by FROM desks ORDER BY name", logger: logger)
            .map {
                let (name, title, at, by) = try $0.decode((String, String, Date, String).self)
                return Desk(name: name, title: title, createdAt: at, createdBy: by)
            }
    }

    // MARK: Routes

    public func addRoute(
        desk: String, field: Route.Field, value: String, by principal: Principal, logger: Logger
    ) async throws -> Route {
        try UserStore.checkAdmin(principal, to: "manage desks")
        var v = Validator()
        v.line(value, "value", max: 200)
        if value.allSatisfy(\.isWhitespace) { v.fail("value", "must not be blank") }
        try v.finish()
        let id = try await database.transaction(logger: logger) { connection -> Int64 in
            guard try await !connection.rows("SELECT 1 FROM desks WHERE name = \(desk)", logger: logger).isEmpty else {
                throw Self.noSuchDesk(desk)
            }
            let added = try await connection.rows(
                """
                INSERT INTO desk_routes (desk, field, value, created_by)
                VALUES (\(desk), \(field.rawValue), \(value), \(principal.name))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger)
            guard let id = try added.first?.decode(Int64.self) else {
                throw WiredeskError(.conflict, "there is a rule for \(field.rawValue) \(value) already; remove it first")
            }
            try await AuditLog.record(
                AuditEntry(
                    principal: principal, action: "desk.route.add", reason: "\(field.rawValue) \(value) to desk \(desk)",
                    subject: "desk route \(id)"),
                on: connection, logger: logger)
            return id
        }
        return try await routes(logger: logger).first { $0.id == id }!
    }

    public func removeRoute(_ id: Int64, by principal: Principal, logger: Logger) async throws {
        try await AuditLog.adminChange(
            "DELETE FROM desk_routes WHERE id = \(id) RETURNING id", action: "desk.route.remove",
            subject: "desk route \(id)", managing: "desks",
            notFound: WiredeskError(.notFound, "no desk route \(id)"), by: principal, database: database, logger: logger)
    }

    public func routes(logger: Logger) async throws -> [Route] {
        try await Self.routes(on: database, logger: logger)
    }

    static func routes(on runner: some SQLRunner, logger: Logger) async throws -> [Route] {
        try await runner.rows(
            "SELECT id, desk, field, value, created_at, created_by FROM desk_routes ORDER BY id", logger: logger
        ).map {
            let (id, desk, field, value, at, by) = try $0.decode((Int64, String, String, String, Date, String).self)
            return Route(
                id: id, desk: desk, field: Route.Field(rawValue: field) ?? .keyword, value: value, createdAt: at,
                createdBy: by)
        }
    }

    /// The first rule that sends this copy to a desk, if any does.
    public static func route(_ content: StoryContent, by routes: [Route]) -> Route? {
        routes.first { $0.matches(content) }
    }

    // MARK: Assignment

    /// Refuses a desk there is not, and a person who is not one of the desk's people.
    func checkAssignable(_ assignment: Assignment, logger: Logger) async throws {
        if let desk = assignment.desk.name,
            try await database.rows("SELECT 1 FROM desks WHERE name = \(desk)", logger: logger).isEmpty
        {
            throw Self.noSuchDesk(desk)
        }
        if let name = assignment.assignee.name {
            let rows = try await database.rows(
                "SELECT role, disabled_at IS NOT NULL FROM users WHERE name = \(name)", logger: logger)
            guard let (role, disabled) = try rows.first?.decode((String, Bool).self) else {
                throw WiredeskError.invalid(field: "assignee", "there is no user \(name)")
            }
            guard !disabled else { throw WiredeskError.invalid(field: "assignee", "\(name) is disabled") }
            guard let role = Role(rawValue: role), Workflow.assignees.contains(role) else {
                let allowed = Workflow.assignees.map(\.rawValue).sorted().joined(separator: ", ")
                throw WiredeskError.invalid(
                    field: "assignee", "\(name) is \(role); stories are assigned to \(allowed) users")
            }
        }
    }

    static func noSuchDesk(_ name: String) -> WiredeskError {
        WiredeskError.invalid(field: "desk", "there is no desk \(name) (wiredesk desk list)")
    }
}
