import Testing

@testable import WiredeskCore

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesBodiesAndComments() {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'it''s; fine');
            /* block; /* nested; */ still comment */
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 2; END; $body$;
            SELECT E'back\\'slash;', "odd;name" FROM a WHERE x = $1;
            -- trailing comment only
            """
        let statements = SQLScript.statements(sql)
        #expect(statements.count == 4)
        #expect(statements[0].hasSuffix("DEFAULT 'it''s; fine')"))
        #expect(statements[1].hasSuffix("AS $$ SELECT 1; $$"))
        #expect(statements[2].hasSuffix("END; $body$"))
        #expect(statements[3] == #"SELECT E'back\'slash;', "odd;name" FROM a WHERE x = $1"#)
    }

    @Test func emptyAndCommentOnlyScriptsHaveNoStatements() {
        #expect(SQLScript.statements("").isEmpty)
        #expect(SQLScript.statements("  -- nothing\n/* here */ ;\n").isEmpty)
    }
}
