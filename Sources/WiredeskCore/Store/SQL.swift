import Foundation
import Logging
import PostgresNIO

/// A statement, or a piece of one, with its values kept apart from its text, as `PostgresQuery`
/// does, but one that can be built from other pieces: each table's SQL stays with the code that
/// owns the table (the audit insert in `AuditLog`, the revision insert in `Revisions`) and one
/// statement can still write all of them. The `$n` placeholders are numbered when the statement is
/// sent.
public struct SQL: Sendable, ExpressibleByStringInterpolation {
    fileprivate enum Part: Sendable {
        case text(String)
        /// A bind; `type`, when given, is written after its placeholder as a cast.
        case value(@Sendable (inout PostgresBindings) throws -> Void, type: String? = nil)
        case sql(SQL)
    }

    fileprivate var parts: [Part]

    public init(stringLiteral value: String) {
        parts = [.text(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.parts
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            parts.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) {
            parts.append(.text(literal))
        }

        /// A value, sent as a bind.
        public mutating func appendInterpolation<Value: PostgresThrowingDynamicTypeEncodable & Sendable>(_ value: Value) {
            parts.append(.value { try $0.append(value) })
        }

        /// A value or NULL, sent as a bind.
        public mutating func appendInterpolation<Value: PostgresThrowingDynamicTypeEncodable & Sendable>(
            _ value: Value?
        ) {
            parts.append(.value { try $0.append(value) })
        }

        /// A value or NULL, sent as a bind of the value's type whichever it is. postgres-nio sends a
        /// NULL without a type, and PostgreSQL then takes the type from the context (`$1::jsonb`
        /// makes it jsonb): a prepared statement whose first use had a NULL would read the text
        /// sent later in its place as binary jsonb.
        public mutating func appendInterpolation<Value: PostgresEncodable & Sendable>(_ value: Value?) {
            parts.append(.value({ try $0.append(value) }, type: Value.psqlType.knownSQLName))
        }

        /// Another piece of SQL, with its own values.
        public mutating func appendInterpolation(_ sql: SQL) {
            parts.append(.sql(sql))
        }

        /// Text that is part of the statement itself: constants only (column lists, identifiers).
        public mutating func appendInterpolation(unescaped text: String) {
            parts.append(.text(text))
        }
    }

    /// The statement as postgres-nio sends it.
    public func query() throws -> PostgresQuery {
        var text = ""
        var binds = PostgresBindings()
        var count = 0
        func render(_ sql: SQL) throws {
            for part in sql.parts {
                switch part {
                case .text(let literal):
                    text += literal
                case .value(let bind, let type):
                    count += 1
                    text += "$\(count)"
                    if let type { text += "::\(type)" }
                    try bind(&binds)
                case .sql(let inner):
                    try render(inner)
                }
            }
        }
        try render(self)
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }
}

/// Where a statement runs: on its own, as one transaction (the pool), or inside a transaction
/// that is already open (a connection).
public protocol SQLRunner: Sendable {
    @discardableResult func rows(_ sql: SQL, logger: Logger) async throws -> [PostgresRow]
    func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws
        -> [Statement.Row] where Statement.Row: Sendable
}

extension Database: SQLRunner {
    @discardableResult public func rows(_ sql: SQL, logger: Logger) async throws -> [PostgresRow] {
        try await run(try sql.query(), logger: logger)
    }
}

extension PostgresConnection: SQLRunner {
    /// The rows as they arrive, for reading more than should be held at once.
    public func stream(_ sql: SQL, logger: Logger) async throws -> PostgresRowSequence {
        try refuseIfClosed()
        return try await query(try sql.query(), logger: logger)
    }

    @discardableResult public func rows(_ sql: SQL, logger: Logger) async throws -> [PostgresRow] {
        try refuseIfClosed()
        var rows: [PostgresRow] = []
        for try await row in try await query(try sql.query(), logger: logger) {
            rows.append(row)
        }
        return rows
    }

    public func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws
        -> [Statement.Row] where Statement.Row: Sendable
    {
        try refuseIfClosed()
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger) {
            rows.append(row)
        }
        return rows
    }
}

extension PostgresConnection {
    /// postgres-nio never answers a query sent on a closed connection (it waits for ever, through
    /// cancellation and shutdown), as a database restart leaves a session held outside the pool.
    func refuseIfClosed() throws {
        guard !isClosed else { throw WiredeskError(.unavailable, "the database is unavailable") }
    }
}
