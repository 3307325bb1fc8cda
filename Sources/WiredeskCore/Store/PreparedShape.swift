import PostgresNIO

/// The one text of a statement that is sent again and again with other values.
protocol StatementShape {
    /// The prepared statement's name on each connection.
    static var name: String { get }
    /// The text the statement's `SQL` renders, whatever its values.
    static var text: String { get }
}

extension SQL {
    /// The text this statement is sent as, for a shape's `text`.
    var shapeText: String { (try? query().sql) ?? "" }
}

/// A statement of a fixed text run as a named prepared statement: PostgreSQL parses and plans it
/// once per connection, where an unnamed statement is parsed and planned every time (a third of
/// PostgreSQL's time for a history page). A statement whose text is not its shape's is refused,
/// so a shape cannot drift from the SQL it stands for.
struct Prepared<Shape: StatementShape>: PostgresPreparedStatement {
    static var name: String { Shape.name }
    static var sql: String { Shape.text }

    private let bindings: PostgresBindings

    struct ShapeMismatch: Error, CustomStringConvertible {
        var description: String { "the statement's text is not that of the prepared statement \(Shape.name)" }
    }

    init(_ statement: SQL) throws {
        let query = try statement.query()
        guard query.sql == Shape.text else { throw ShapeMismatch() }
        bindings = query.binds
    }

    func makeBindings() -> PostgresBindings { bindings }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
