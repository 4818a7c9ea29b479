import GreyoakPostgres
/// What depends on what, as PostgreSQL itself records it (`pg_depend`; a view's query is its
/// `pg_rewrite` rule): the order ``DiffOrdering`` makes objects in, and drops them in reverse.
///
/// Each object is a node named the way ``SchemaCatalog/node(of:)`` names what a migration
/// makes: `rel t` (a table, view, materialized view, sequence or index), `col t.c` (a column),
/// `default t.c` (its default or generation expression), `con t.k` (a constraint, with the index that backs it), `type e` (an
/// enum, domain or range type, with its constraints, array and multirange types; a composite type is `rel t`), and ``SchemaCatalog/Object/key`` for
/// the rest (`function f(integer)`, `trigger tr on t`, `extension citext`). A row type is its
/// relation; a view's rule is the view; an object that belongs to an extension is the extension.
extension SchemaCatalog {
    static func readDependencies(_ connection: Connection, schema: String, into catalog: inout SchemaCatalog) throws {
        let inSchema = "n.nspname = $1"
        let sql = """
            WITH members AS (
                SELECT e.classid, e.objid, 'extension ' || x.extname AS node
                FROM pg_depend e JOIN pg_extension x ON x.oid = e.refobjid
                WHERE e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'
            ), nodes (classid, objid, objsubid, node) AS (
                SELECT 'pg_extension'::regclass, x.oid, 0, 'extension ' || x.extname FROM pg_extension x
                UNION ALL
                SELECT 'pg_class'::regclass, c.oid, 0, coalesce('con ' || t.relname || '.' || k.conname, 'rel ' || c.relname)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_constraint k ON c.relkind IN ('i', 'I') AND k.conindid = c.oid AND k.contype IN ('p', 'u', 'x')
                LEFT JOIN pg_class t ON t.oid = k.conrelid
                WHERE \(inSchema)
                UNION ALL
                SELECT 'pg_class'::regclass, c.oid, a.attnum, 'col ' || c.relname || '.' || a.attname
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND \(inSchema)
                UNION ALL
                SELECT 'pg_attrdef'::regclass, d.oid, 0, 'default ' || c.relname || '.' || a.attname
                FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                WHERE \(inSchema)
                UNION ALL
                SELECT 'pg_type'::regclass, t.oid, 0,
                       CASE WHEN coalesce(e.typrelid, t.typrelid) <> 0
                            THEN 'rel ' || (SELECT r.relname FROM pg_class r WHERE r.oid = coalesce(e.typrelid, t.typrelid))
                            -- A multirange (or its array) is its range type.
                            ELSE 'type ' || coalesce((SELECT g.typname FROM pg_range r JOIN pg_type g ON g.oid = r.rngtypid
                                                      WHERE r.rngmultitypid = coalesce(e.oid, t.oid)), e.typname, t.typname) END
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type e ON e.typarray = t.oid
                WHERE \(inSchema)
                UNION ALL
                SELECT 'pg_proc'::regclass, p.oid, 0, CASE WHEN p.prokind = 'p' THEN 'procedure ' ELSE 'function ' END
                       || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE \(inSchema) AND \(notInternalFunction("p.oid"))
                UNION ALL
                SELECT 'pg_constraint'::regclass, k.oid, 0,
                       CASE WHEN k.contypid <> 0 THEN 'type ' || y.typname
                            WHEN k.contype = 't' THEN 'trigger ' || k.conname || ' on ' || c.relname
                            ELSE 'con ' || c.relname || '.' || k.conname END
                FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
                LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type y ON y.oid = k.contypid
                WHERE \(inSchema)
                UNION ALL
                SELECT 'pg_trigger'::regclass, g.oid, 0, 'trigger ' || g.tgname || ' on ' || c.relname
                FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE NOT g.tgisinternal AND \(inSchema)
                UNION ALL
                SELECT 'pg_policy'::regclass, p.oid, 0, 'policy ' || p.polname || ' on ' || c.relname
                FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE \(inSchema)
                UNION ALL
                SELECT 'pg_rewrite'::regclass, r.oid, 0, 'rel ' || c.relname
                FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE \(inSchema)
                UNION ALL
                SELECT 'pg_collation'::regclass, l.oid, 0, 'collation ' || l.collname
                FROM pg_collation l JOIN pg_namespace n ON n.oid = l.collnamespace
                WHERE \(inSchema)
            )
            SELECT DISTINCT coalesce(m.node, a.node, a0.node), coalesce(rm.node, b.node, b0.node)
            FROM pg_depend d
            LEFT JOIN members m ON m.classid = d.classid AND m.objid = d.objid
            LEFT JOIN nodes a ON a.classid = d.classid AND a.objid = d.objid AND a.objsubid = d.objsubid AND d.objsubid <> 0
            LEFT JOIN nodes a0 ON a0.classid = d.classid AND a0.objid = d.objid AND a0.objsubid = 0
            LEFT JOIN members rm ON rm.classid = d.refclassid AND rm.objid = d.refobjid
            LEFT JOIN nodes b ON b.classid = d.refclassid AND b.objid = d.refobjid AND b.objsubid = d.refobjsubid AND d.refobjsubid <> 0
            LEFT JOIN nodes b0 ON b0.classid = d.refclassid AND b0.objid = d.refobjid AND b0.objsubid = 0
            WHERE d.deptype IN ('n', 'a')
              -- A sequence OWNED BY a column goes with it, but is made before it (the default reads it).
              AND NOT (d.deptype = 'a' AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                       AND d.refobjsubid <> 0 AND EXISTS (SELECT 1 FROM pg_class s WHERE s.oid = d.objid AND s.relkind = 'S'))
            """
        for row in try connection.catalogRows(sql, [schema], reading: "dependencies of schema \(schema)") {
            guard let node = row.optional(0), let target = row.optional(1), node != target else { continue }
            catalog.dependencies[node, default: []].insert(target)
        }
        // Grants and comments are not in pg_depend: they need what they are on.
        for object in catalog.objects.values where [.grant, .comment].contains(object.kind) {
            var needs = Set(object.hangsOn.map { $0.contains(".") ? "col \($0)" : "rel \($0)" })
            if let target = target(of: object.name) { needs.insert(target) }
            if !needs.isEmpty { catalog.dependencies[object.key, default: []].formUnion(needs) }
        }
    }

    /// The function, procedure, type or collation a grant or comment named `name` is on
    /// (`EXECUTE on FUNCTION f(integer) to PUBLIC`, `on DOMAIN email`), as a node.
    static func target(of name: String) -> String? {
        for (word, kind) in [("FUNCTION", "function"), ("PROCEDURE", "procedure"), ("TYPE", "type"), ("DOMAIN", "type"), ("COLLATION", "collation")] {
            guard let range = name.range(of: "on \(word) ") else { continue }
            let rest = name[range.upperBound...]
            if kind == "function" || kind == "procedure" {
                guard let close = rest.firstIndex(of: ")") else { return nil }
                return "\(kind) \(rest[...close])"
            }
            let word = rest.prefix { $0 != " " }
            return word.hasPrefix("\"") ? nil : "\(kind) \(word)"
        }
        return nil
    }

    /// The node that stands for `object` in ``dependencies``.
    static func node(of object: Object) -> String {
        switch object.kind {
        // A composite type is its pg_class row.
        case .materializedView, .materializedViewIndex, .compositeType: "rel \(object.name)"
        case .rangeType: "type \(object.name)"
        default: object.key
        }
    }

    /// The nodes of `table` (itself, its columns and their defaults, its constraints other
    /// than foreign keys).
    static func nodes(of table: Table) -> [String] {
        ["rel \(table.name)"] + table.columns.flatMap { nodes(of: $0, in: table.name) }
            + table.constraints.values.filter { $0.kind != .foreignKey }.map { "con \(table.name).\($0.name)" }
    }

    /// A column's node, and its default's when it has one.
    static func nodes(of column: Column, in table: String) -> [String] {
        ["col \(table).\(column.name)"]
            + (column.defaultExpression != nil || column.generatedExpression != nil ? ["default \(table).\(column.name)"] : [])
    }
}
