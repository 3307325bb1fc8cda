import Foundation
import Testing

@testable import WiredeskCore

/// A prepared statement's text is its shape's; a statement of other text never runs under its name.
@Suite struct PreparedShapeTests {
    enum Shape: StatementShape {
        static let name = "test_shape"
        static let text = (try? SQL("SELECT \(1) + \(2)").query().sql) ?? ""
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
}
