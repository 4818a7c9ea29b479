import GreyoakPostgres
import Foundation

/// Grants and comments: privileges on relations, columns, sequences, functions and the schema,
/// default privileges, and the comment of every commented object.
extension SchemaCatalog {
    /// `CASE` that names an `aclexplode` grantee as SQL does: `PUBLIC` or a quoted role name.
    private static let grantee = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END"

    // What CREATE DATABASE gives `public` (its comment, USAGE to PUBLIC) is left out: a
    // scratch database has it whether or not the live one does, and no migration makes it.
    static func readGrants(_ connection: Connection, schema: String, relation: String, into catalog: inout SchemaCatalog) throws {
        let quoting = catalog
        func q(_ name: String) -> String { quoting.quote(name) }
        // The session's own privileges are how it reached the database (the loader that runs
        // verify), not part of the schema; a migration never grants to the role running it.
        let me = "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        // One row per object, grantee and grant option: the privileges, sorted.
        let queries: [(what: String, sql: String)] = [
            ("relation grants", """
                SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END || ' ' || quote_ident(c.relname), c.relname, \(grantee),
                       a.is_grantable, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), false
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND a.grantee <> \(me) AND a.grantee <> c.relowner AND \(relation)
                GROUP BY 1, 2, 3, 4
                """),
            ("column grants", """
                SELECT 'TABLE ' || quote_ident(c.relname) || ' (' || quote_ident(t.attname) || ')', c.relname || '.' || t.attname, \(grantee),
                       a.is_grantable, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), false
                FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(t.attacl) a
                WHERE t.attnum > 0 AND NOT t.attisdropped AND a.grantee <> \(me) AND a.grantee <> c.relowner AND \(relation)
                GROUP BY 1, 2, 3, 4
                """),
            // A function's NULL acl means the default, EXECUTE to PUBLIC: read as such, so that
            // revoking it is a difference.
            ("function grants", """
                SELECT CASE WHEN p.prokind = 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || quote_ident(p.proname)
                       || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, \(grantee),
                       a.is_grantable, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), false
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE n.nspname = $1 AND p.prokind IN ('f', 'p') AND a.grantee <> \(me) AND a.grantee <> p.proowner AND \(notFromExtension("pg_proc", "p.oid"))
                      AND \(notInternalFunction("p.oid"))
                GROUP BY 1, 2, 3, 4
                """),
            ("schema grants", """
                SELECT 'SCHEMA ' || quote_ident(n.nspname), NULL, \(grantee),
                       a.is_grantable, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), true
                FROM pg_namespace n, aclexplode(n.nspacl) a
                WHERE n.nspname = $1 AND a.grantee <> \(me) AND a.grantee <> n.nspowner
                  AND NOT (n.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'USAGE')
                GROUP BY 1, 2, 3, 4
                """),
        ]
        for query in queries {
            for row in try connection.catalogRows(query.sql, [schema], reading: "\(query.what) of schema \(schema)") {
                let (target, to) = (try row.text(0, "object"), try row.text(2, "grantee"))
                let privileges = try row.text(4, "privileges")
                let option = row.flag(3) ? " WITH GRANT OPTION" : ""
                // A column's privileges go between the privilege and ON: GRANT SELECT (c) ON TABLE t.
                let (on, columns) = Self.splitColumn(target)
                let list = columns.map { c in privileges.split(separator: ",").map { "\($0.trimmingCharacters(in: .whitespaces)) \(c)" }.joined(separator: ", ") } ?? privileges
                let sql = "GRANT \(list) ON \(on) TO \(to)\(option)"
                var object = Object(kind: .grant, name: "\(privileges)\(option.isEmpty ? "" : " (grantable)") on \(target) to \(to)",
                                    definition: sql, create: [sql],
                                    drop: ["REVOKE \(columns.map { "ALL \($0)" } ?? "ALL") ON \(on) FROM \(to)"])
                if let hangsOn = row.optional(1) { object.hangsOn = [hangsOn, String(hangsOn.split(separator: ".").first ?? "")] }
                object.schemaLevel = row.flag(5)
                catalog.add(object)
            }
        }
        for row in try connection.catalogRows("""
            SELECT quote_ident(pg_get_userbyid(d.defaclrole)), d.defaclnamespace <> 0, d.defaclobjtype::text, \(grantee),
                   a.is_grantable, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)
            FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
            WHERE (d.defaclnamespace = 0 OR n.nspname = $1) AND a.grantee <> \(me) AND a.grantee <> d.defaclrole
            GROUP BY 1, 2, 3, 4, 5
            """, [schema], reading: "default privileges of schema \(schema)") {
            let role = try row.text(0, "role")
            let scope = "FOR ROLE \(role)\(row.flag(1) ? " IN SCHEMA \(q(schema))" : "")"
            let objects = ["r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"][row.optional(2) ?? ""] ?? "TABLES"
            let (to, privileges) = (try row.text(3, "grantee"), try row.text(5, "privileges"))
            let option = row.flag(4) ? " WITH GRANT OPTION" : ""
            let sql = "ALTER DEFAULT PRIVILEGES \(scope) GRANT \(privileges) ON \(objects) TO \(to)\(option)"
            var object = Object(kind: .defaultPrivileges, name: "\(scope) on \(objects) to \(to)", definition: sql, create: [sql],
                                drop: ["ALTER DEFAULT PRIVILEGES \(scope) REVOKE ALL ON \(objects) FROM \(to)"])
            object.schemaLevel = true
            catalog.add(object)
        }
    }

    /// `TABLE t (c)` -> (`TABLE t`, `(c)`); anything else -> (itself, nil).
    private static func splitColumn(_ target: String) -> (String, String?) {
        guard target.hasSuffix(")"), target.hasPrefix("TABLE "), let open = target.range(of: " (", options: .backwards) else { return (target, nil) }
        return (String(target[..<open.lowerBound]), String(target[target.index(after: open.lowerBound)...]))
    }

    static func readComments(_ connection: Connection, schema: String, relation: String, into catalog: inout SchemaCatalog) throws {
        // (what COMMENT ON names, the relation or column it hangs on, the comment, schema-level)
        let sql = """
            SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                        WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END
                   || ' ' || quote_ident(c.relname), c.relname, d.description, false
            FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE \(relation)
            UNION ALL
            SELECT 'COLUMN ' || quote_ident(c.relname) || '.' || quote_ident(a.attname), c.relname || '.' || a.attname, d.description, false
            FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid > 0 AND \(relation)
            UNION ALL
            SELECT CASE WHEN p.prokind = 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || quote_ident(p.proname)
                   || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, d.description, false
            FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid
            JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND \(notFromExtension("pg_proc", "p.oid")) AND \(notInternalFunction("p.oid"))
            UNION ALL
            SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(t.typname), NULL, d.description, false
            FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid
            JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND \(notFromExtension("pg_type", "t.oid"))
            UNION ALL
            SELECT 'CONSTRAINT ' || quote_ident(k.conname) || ' ON ' || quote_ident(c.relname), c.relname, d.description, false
            FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid
            JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE \(relation)
            UNION ALL
            SELECT 'TRIGGER ' || quote_ident(g.tgname) || ' ON ' || quote_ident(c.relname), c.relname, d.description, false
            FROM pg_description d JOIN pg_trigger g ON d.classoid = 'pg_trigger'::regclass AND d.objoid = g.oid
            JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE \(relation)
            UNION ALL
            SELECT 'POLICY ' || quote_ident(p.polname) || ' ON ' || quote_ident(c.relname), c.relname, d.description, false
            FROM pg_description d JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND d.objoid = p.oid
            JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE \(relation)
            UNION ALL
            SELECT 'COLLATION ' || quote_ident(l.collname), NULL, d.description, false
            FROM pg_description d JOIN pg_collation l ON d.classoid = 'pg_collation'::regclass AND d.objoid = l.oid
            JOIN pg_namespace n ON n.oid = l.collnamespace WHERE n.nspname = $1
            UNION ALL
            SELECT 'SCHEMA ' || quote_ident(n.nspname), NULL, d.description, true
            FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid WHERE n.nspname = $1
              AND NOT (n.nspname = 'public' AND d.description = 'standard public schema')
            """
        for row in try connection.catalogRows(sql, [schema], reading: "comments of schema \(schema)") {
            let (target, text) = (try row.text(0, "commented object"), try row.text(2, "description"))
            let create = "COMMENT ON \(target) IS \(sqlLiteral(text))"
            var object = Object(kind: .comment, name: "on \(target)", definition: sqlLiteral(text), create: [create],
                                drop: ["COMMENT ON \(target) IS NULL"], alter: [create])
            if let hangsOn = row.optional(1) { object.hangsOn = [hangsOn, String(hangsOn.split(separator: ".").first ?? "")] }
            object.schemaLevel = row.flag(3)
            catalog.add(object)
        }
    }
}
