import Testing
@testable import GreyoakSchema

/// ``DiffOrdering`` follows the recorded dependencies, not the kind order, and names a cycle
/// it cannot break.
@Suite struct DiffOrderingTests {
    static func function(_ signature: String, sql: String) -> SchemaCatalog.Object {
        SchemaCatalog.Object(kind: .function, name: signature, definition: sql, create: [sql], drop: ["DROP FUNCTION \(signature)"], alter: [sql])
    }

    /// A function that takes a table's row is made after the table (functions are made before
    /// tables by kind), and dropped before it.
    @Test func functionOverARowTypeFollowsItsTable() {
        var after = SchemaCatalog()
        after.tables["t"] = SchemaDiffTests.table("t", [("id", "integer")])
        let f = Self.function("f(t)", sql: "CREATE FUNCTION f(t) RETURNS integer LANGUAGE sql AS $$SELECT 1$$")
        after.add(f)
        after.dependencies[f.key] = ["rel t"]
        let up = SchemaDiff(from: SchemaCatalog(), to: after).changes.compactMap(\.sql)
        #expect(up.firstIndex { $0.hasPrefix("CREATE TABLE t") }! < up.firstIndex { $0.hasPrefix("CREATE FUNCTION f") }!, "\(up)")
        let down = SchemaDiff(from: after, to: SchemaCatalog()).changes.compactMap(\.sql)
        #expect(down == ["DROP FUNCTION f(t)", "DROP TABLE t"])
    }

    /// A default that calls a function that reads the table: the table is made without it,
    /// then the function, then the default; dropped the other way round.
    @Test func defaultInACycleIsSetApart() {
        var after = SchemaCatalog()
        var table = SchemaDiffTests.table("t", [("id", "integer")])
        table.columns[0].defaultExpression = "g()"
        after.tables["t"] = table
        let g = Self.function("g()", sql: "CREATE FUNCTION g() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT max(id) FROM t; END")
        after.add(g)
        after.dependencies = [g.key: ["col t.id", "rel t"], "default t.id": [g.key]]
        let up = SchemaDiff(from: SchemaCatalog(), to: after).changes.compactMap(\.sql)
        #expect(up == ["SET LOCAL check_function_bodies = off", "CREATE TABLE t (\n    id integer\n)", g.create[0],
                       "ALTER TABLE t ALTER COLUMN id SET DEFAULT g()",
                       // No grant of EXECUTE to PUBLIC in `after`: taken away from the new function.
                       "REVOKE EXECUTE ON FUNCTION g() FROM PUBLIC"])
        let down = SchemaDiff(from: after, to: SchemaCatalog()).changes.compactMap(\.sql)
        #expect(down == ["ALTER TABLE t ALTER COLUMN id DROP DEFAULT", "DROP FUNCTION g()", "DROP TABLE t"])
    }

    /// A CHECK that calls a function that reads the table has no order that loads: the
    /// statements keep the kind order, and a note names the cycle.
    @Test func cycleIsNamed() {
        var after = SchemaCatalog()
        after.tables["t"] = SchemaDiffTests.table("t", [("id", "integer")], constraints: [.init(name: "t_ok", kind: .check, definition: "CHECK (g(id))")])
        let g = Self.function("g(integer)", sql: "CREATE FUNCTION g(integer) RETURNS boolean LANGUAGE sql BEGIN ATOMIC SELECT $1 > (SELECT count(*) FROM t); END")
        after.add(g)
        after.dependencies = [g.key: ["rel t"], "con t.t_ok": [g.key, "col t.id"]]
        let up = SchemaDiff(from: SchemaCatalog(), to: after).changes
        let note = up.first { $0.sql == nil }?.comments.first ?? ""
        #expect(note.hasPrefix("NOT GENERATED: these statements depend on each other in a cycle"), "\(up)")
        #expect(note.contains("make function g(integer)") && note.contains("make rel t"), "\(note)")
        #expect(up.compactMap(\.sql).count == 4)  // with the REVOKE of EXECUTE from PUBLIC
    }
}
