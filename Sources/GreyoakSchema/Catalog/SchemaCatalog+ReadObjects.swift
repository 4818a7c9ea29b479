import GreyoakPostgres
import Foundation

extension SchemaCatalog {
    /// Reads the ``Object``s of schema `schema` (and the database's extensions).
    static func readObjects(_ connection: Connection, schema: String, relation: String, into catalog: inout SchemaCatalog) throws {
        let quoting = catalog
        func q(_ name: String) -> String { quoting.quote(name) }
        let quotedSchema = q(schema)
        for row in try connection.catalogRows("""
            SELECT e.extname, e.extversion, n.nspname,
                   ARRAY(SELECT p.target FROM pg_extension_update_paths(e.extname) p
                         WHERE p.source = e.extversion AND p.path IS NOT NULL ORDER BY 1)
            FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname <> 'plpgsql'
            """, reading: "extensions") {
            let (name, version, home) = (try row.text(0, "extname"), try row.text(1, "extversion"), try row.text(2, "extension schema"))
            var object = Object(kind: .extension, name: name, definition: "version \(version) in schema \(home)",
                                create: (home == schema ? [] : ["CREATE SCHEMA IF NOT EXISTS \(q(home))"])
                                    + ["CREATE EXTENSION \(q(name)) WITH SCHEMA \(q(home)) VERSION \(sqlLiteral(version))"],
                                drop: ["DROP EXTENSION \(q(name))"], alter: ["ALTER EXTENSION \(q(name)) UPDATE TO \(sqlLiteral(version))"])
            object.version = version
            object.reachableVersions = Set(textArray(row.optional(3)))
            catalog.add(object)
        }
        for row in try connection.catalogRows("""
            SELECT c.collname, c.collprovider::text, c.collcollate, c.collctype, c.colliculocale, c.collisdeterministic
            FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
            WHERE n.nspname = $1 AND \(notFromExtension("pg_collation", "c.oid"))
            """, [schema], reading: "collations of schema \(schema)") {
            let name = try row.text(0, "collname")
            var options = row.optional(1) == "i"
                ? ["provider = icu", "locale = \(sqlLiteral(row.optional(4) ?? ""))"]
                : ["provider = libc", "lc_collate = \(sqlLiteral(row.optional(2) ?? ""))", "lc_ctype = \(sqlLiteral(row.optional(3) ?? ""))"]
            if !row.flag(5) { options.append("deterministic = false") }
            let sql = "CREATE COLLATION \(q(name)) (\(options.joined(separator: ", ")))"
            catalog.add(Object(kind: .collation, name: name, definition: sql, create: [sql], drop: ["DROP COLLATION \(q(name))"]))
        }
        for row in try connection.catalogRows("""
            SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid), p.prokind::text,
                   coalesce(pg_get_function_result(p.oid), '') || ' (' || pg_get_function_arguments(p.oid) || ')'
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = $1 AND p.prokind IN ('f', 'p') AND \(notFromExtension("pg_proc", "p.oid")) AND \(notInternalFunction("p.oid"))
            """, [schema], reading: "functions of schema \(schema)") {
            let kind: Object.Kind = row.optional(3) == "p" ? .procedure : .function
            let signature = "\(q(try row.text(0, "proname")))(\(try row.text(1, "function arguments")))"
            let word = kind == .procedure ? "PROCEDURE" : "FUNCTION"
            // pg_get_functiondef always names the schema; without it, the same function in another schema reads the same.
            let definition = try row.text(2, "function definition").trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "\(word) \(quotedSchema).", with: "\(word) ")
            var object = Object(kind: kind, name: signature, definition: definition, create: [definition],
                                drop: ["DROP \(word) \(signature)"], alter: [definition])
            object.shape = row.optional(4)
            catalog.add(object)
        }
        try readRelationObjects(connection, schema: schema, relation: relation, into: &catalog)
        try readGrants(connection, schema: schema, relation: relation, into: &catalog)
        try readComments(connection, schema: schema, relation: relation, into: &catalog)
    }

    private static func readRelationObjects(_ connection: Connection, schema: String, relation: String, into catalog: inout SchemaCatalog) throws {
        let quoting = catalog
        func q(_ name: String) -> String { quoting.quote(name) }
        for row in try connection.catalogRows("""
            SELECT c.relname, pg_get_viewdef(c.oid, true),
                   ARRAY(SELECT DISTINCT t.relname FROM pg_rewrite r
                         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
                         JOIN pg_class t ON t.oid = d.refobjid
                         WHERE r.ev_class = c.oid AND t.oid <> c.oid AND t.relnamespace = c.relnamespace ORDER BY 1)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'm' AND \(relation)
            """, [schema], reading: "materialized views of schema \(schema)") {
            let name = try row.text(0, "relname")
            var query = try row.text(1, "materialized view definition").trimmingCharacters(in: .whitespacesAndNewlines)
            if query.hasSuffix(";") { query.removeLast() }
            var object = Object(kind: .materializedView, name: name, definition: query,
                                create: ["CREATE MATERIALIZED VIEW \(q(name)) AS\n\(query)"], drop: ["DROP MATERIALIZED VIEW \(q(name))"])
            object.reads = Set(textArray(row.optional(2)))
            catalog.add(object)
        }
        let quotedSchema = q(schema)
        for row in try connection.catalogRows("""
            SELECT i.relname, pg_get_indexdef(x.indexrelid), c.relname
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'm' AND \(relation)
            """, [schema], reading: "indexes of materialized views of schema \(schema)") {
            let name = try row.text(0, "index name")
            let definition = unqualified(try row.text(1, "index definition"), quotedSchema: quotedSchema)
            var object = Object(kind: .materializedViewIndex, name: name, definition: definition, create: [definition], drop: ["DROP INDEX \(q(name))"])
            object.hangsOn = [try row.text(2, "relname")]
            catalog.add(object)
        }
        for row in try connection.catalogRows("""
            SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid, true), t.tgenabled::text
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND \(relation) AND \(notFromExtension("pg_trigger", "t.oid"))
            """, [schema], reading: "triggers of schema \(schema)") {
            let (name, table) = (try row.text(0, "tgname"), try row.text(1, "relname"))
            let definition = try row.text(2, "trigger definition")
            var create = [definition]
            let state = row.optional(3) ?? "O"
            if state != "O" {
                let how = ["D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"][state] ?? "ENABLE"
                create.append("ALTER TABLE \(q(table)) \(how) TRIGGER \(q(name))")
            }
            var object = Object(kind: .trigger, name: "\(name) on \(table)", definition: create.joined(separator: "; "),
                                create: create, drop: ["DROP TRIGGER \(q(name)) ON \(q(table))"])
            object.hangsOn = [table]
            catalog.add(object)
        }
        for row in try connection.catalogRows("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity) AND \(relation)
            """, [schema], reading: "row-level security of schema \(schema)") {
            let table = try row.text(0, "relname")
            let (enabled, forced) = (row.flag(1), row.flag(2))
            let create = ["ALTER TABLE \(q(table)) \(enabled ? "ENABLE" : "DISABLE") ROW LEVEL SECURITY",
                          "ALTER TABLE \(q(table)) \(forced ? "" : "NO ")FORCE ROW LEVEL SECURITY"]
            var object = Object(kind: .rowLevelSecurity, name: "on \(table)",
                                definition: [enabled ? "enabled" : "disabled", forced ? "forced" : "not forced"].joined(separator: ", "),
                                create: create, drop: ["ALTER TABLE \(q(table)) DISABLE ROW LEVEL SECURITY", "ALTER TABLE \(q(table)) NO FORCE ROW LEVEL SECURITY"],
                                alter: create)
            object.hangsOn = [table]
            catalog.add(object)
        }
        for row in try connection.catalogRows("""
            SELECT p.polname, c.relname, p.polpermissive, p.polcmd::text,
                   CASE WHEN p.polroles = '{0}' THEN 'PUBLIC'
                        ELSE (SELECT string_agg(quote_ident(r.rolname), ', ' ORDER BY r.rolname) FROM pg_roles r WHERE r.oid = ANY (p.polroles)) END,
                   pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
            FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE \(relation)
            """, [schema], reading: "policies of schema \(schema)") {
            let (name, table) = (try row.text(0, "polname"), try row.text(1, "relname"))
            let command = ["r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"][row.optional(3) ?? "*"] ?? "ALL"
            var sql = "CREATE POLICY \(q(name)) ON \(q(table)) AS \(row.flag(2) ? "PERMISSIVE" : "RESTRICTIVE") FOR \(command) TO \(row.optional(4) ?? "PUBLIC")"
            if let using = row.optional(5) { sql += " USING (\(using))" }
            if let check = row.optional(6) { sql += " WITH CHECK (\(check))" }
            var object = Object(kind: .policy, name: "\(name) on \(table)", definition: sql, create: [sql], drop: ["DROP POLICY \(q(name)) ON \(q(table))"])
            object.hangsOn = [table]
            catalog.add(object)
        }
    }

    /// `{a,b}` as PostgreSQL prints a text array of plain names.
    static func textArray(_ text: String?) -> [String] {
        guard let text, text.count > 2 else { return [] }
        return text.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingCharacters(in: ["\""]) }
    }
}
