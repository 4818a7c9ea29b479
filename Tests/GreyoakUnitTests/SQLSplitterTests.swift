import Testing
import GreyoakPostgres

@Suite struct SQLSplitterTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let script: String
        let statements: [String]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(name: "plain", script: "SELECT 1; SELECT 2", statements: ["SELECT 1", "SELECT 2"]),
        Case(name: "semicolon in a string", script: "SELECT 'a;b'; SELECT 2;", statements: ["SELECT 'a;b'", "SELECT 2"]),
        Case(name: "doubled quote", script: "SELECT 'it''s; fine'; SELECT 2;", statements: ["SELECT 'it''s; fine'", "SELECT 2"]),
        Case(name: "E'' backslash escape", script: #"SELECT E'it\'s; still'; SELECT 2;"#,
             statements: [#"SELECT E'it\'s; still'"#, "SELECT 2"]),
        Case(name: "lower-case e'' escape", script: #"SELECT e'a\\'; SELECT 2;"#, statements: [#"SELECT e'a\\'"#, "SELECT 2"]),
        Case(name: "backslash ends a standard string", script: #"SELECT 'C:\'; SELECT 2;"#, statements: [#"SELECT 'C:\'"#, "SELECT 2"]),
        Case(name: "quoted identifier", script: #"CREATE TABLE "a;""b" (x int); SELECT 2"#,
             statements: [#"CREATE TABLE "a;""b" (x int)"#, "SELECT 2"]),
        Case(name: "dollar quote", script: "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2;",
             statements: ["CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT 2"]),
        Case(name: "tagged dollar quote holding $$ and quotes",
             script: "DO $body$ BEGIN RAISE NOTICE 'x; $$ y'; END $body$; SELECT 2",
             statements: ["DO $body$ BEGIN RAISE NOTICE 'x; $$ y'; END $body$", "SELECT 2"]),
        Case(name: "positional parameter is not a dollar quote", script: "PREPARE p(int) AS SELECT $1; SELECT 2",
             statements: ["PREPARE p(int) AS SELECT $1", "SELECT 2"]),
        Case(name: "SQL-standard function body",
             script: "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 2",
             statements: ["CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END", "SELECT 2"]),
        Case(name: "SQL-standard procedure body, or replace",
             script: "create or replace procedure p() begin atomic insert into t values (1); end; BEGIN; SELECT 2; END;",
             statements: ["create or replace procedure p() begin atomic insert into t values (1); end", "BEGIN", "SELECT 2", "END"]),
        Case(name: "semicolon inside parentheses", script: "SELECT (1;2); SELECT 2", statements: ["SELECT (1;2)", "SELECT 2"]),
        Case(name: "dollar inside an identifier", script: "SELECT a$b$c FROM t; SELECT 2",
             statements: ["SELECT a$b$c FROM t", "SELECT 2"]),
        Case(name: "line comment holding a semicolon", script: "SELECT 1 -- not; the end\n; SELECT 2",
             statements: ["SELECT 1 -- not; the end", "SELECT 2"]),
        Case(name: "nested block comment", script: "SELECT /* a; /* b; */ c; */ 1; SELECT 2",
             statements: ["SELECT /* a; /* b; */ c; */ 1", "SELECT 2"]),
        Case(name: "quote inside a comment", script: "SELECT 1 -- don't\n; SELECT 2;", statements: ["SELECT 1 -- don't", "SELECT 2"]),
        Case(name: "only line comments", script: "-- nothing\n\n  -- here\n", statements: []),
        Case(name: "empty statements", script: " ;;\n;", statements: []),
        Case(name: "trailing line comment after the last statement", script: "SELECT 1; -- done\n", statements: ["SELECT 1"]),
        // A piece holding only a block comment is no statement: sent alone, the server
        // answers EMPTY_QUERY and the migration fails.
        Case(name: "trailing block comment", script: "SELECT 1;\n/* nothing to undo */\n", statements: ["SELECT 1"]),
        Case(name: "no terminating semicolon", script: "\n  SELECT 1\n", statements: ["SELECT 1"]),
    ] as [Case])
    func splits(_ example: Case) {
        #expect(SQLSplitter.split(example.script).map(\.text) == example.statements)
    }

    @Test func linesCountFromFirstLine() {
        let script = "SELECT 1;\nSELECT 2;\n\n  SELECT\n  3;"
        #expect(SQLSplitter.split(script).map(\.line) == [1, 2, 4])
        #expect(SQLSplitter.split(script, firstLine: 10).map(\.line) == [10, 11, 13])
    }

    @Test func linesInsideStringsCommentsAndDollarQuotesAreCounted() {
        let script = """
            SELECT 'a
            b';
            SELECT /* one
               two */ 2;
            DO $$
            BEGIN
            END $$;
            SELECT E'x\\
            y';
            SELECT 5;
            """
        #expect(SQLSplitter.split(script).map(\.line) == [1, 3, 5, 8, 10])
    }

    @Test func twoStatementsOnOneLine() {
        #expect(SQLSplitter.split("SELECT 1; SELECT 2;\nSELECT 3;", firstLine: 7).map(\.line) == [7, 7, 8])
    }

    /// A failing statement is reported at its line: comments in front of it (its own, or the
    /// previous statement's trailing one) must not move the line away from the SQL.
    @Test(arguments: [
        ("SELECT 1; -- first\nSELECT 2;", [1, 2]),
        ("SELECT 1;\n-- why the next one\nSELECT 2;", [1, 3]),
        ("/* header\n   comment */\nSELECT 1;", [3]),
    ] as [(String, [Int])])
    func statementLineIsTheLineOfItsSQL(_ script: String, _ lines: [Int]) {
        #expect(SQLSplitter.split(script).map(\.line) == lines)
    }
}
