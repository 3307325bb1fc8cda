import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// A prepared statement's text is its shape's; a statement of other text never runs under its name.
@Suite struct PreparedShapeTests {
    enum Shape: StatementShape {
        static let name = "test_shape"
        static let text = SQL("SELECT \(1) + \(2)").shapeText
    }

    @Test func aStatementOfItsShapeIsPreparedWithItsValues() throws {
        let prepared = try Prepared<Shape>("SELECT \(40) + \(2)")
        #expect(Prepared<Shape>.sql == "SELECT $1 + $2")
        #expect(prepared.makeBindings().count == 2)
        #expect(!AuditLog.HistoryPage.Shape.text.isEmpty)
    }

    @Test func aStatementOfAnotherTextIsRefused() {
        #expect(throws: Prepared<Shape>.ShapeMismatch.self) { try Prepared<Shape>("SELECT \(1) - \(2)") }
        #expect(throws: Prepared<Shape>.ShapeMismatch.self) { try Prepared<Shape>("SELECT \(1) + \(2) + \(3)") }
    }

    enum NullableShape: StatementShape {
        static let name = "test_nullable_shape"
        static let text = SQL("SELECT \(nil as String?)::jsonb").shapeText
    }

    @Test func aNullValueIsSentWithItsType() throws {
        #expect(NullableShape.text == "SELECT $1::TEXT::jsonb")
        #expect(try SQL("SELECT \(nil as Int?), \("x" as String?)").query().sql == "SELECT $1::BIGINT, $2::TEXT")
    }

    /// postgres-nio prepares a statement with the types of its first use; a NULL had none, and
    /// PostgreSQL took `jsonb` from the cast, so the text sent next was read as binary jsonb.
    @Test func aStatementFirstRunWithNullStillTakesAValue() async throws {
        try await Newsroom.with { newsroom in
            let values = try await newsroom.database.transaction(logger: newsroom.logger) { connection in
                var values: [String?] = []
                for value in [nil, #"{"a": [1]}"#] as [String?] {
                    let rows = try await connection.rows(
                        try Prepared<NullableShape>("SELECT \(value)::jsonb"), logger: newsroom.logger)
                    values.append(try rows.first?.decode(String?.self))
                }
                return values
            }
            #expect(values == [nil, #"{"a": [1]}"#])
        }
    }
}
