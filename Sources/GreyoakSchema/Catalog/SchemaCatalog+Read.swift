import GreyoakPostgres
extension SchemaCatalog {
    /// Greyoak's own bookkeeping tables: never part of a migration.
    static let ignoredTables: Set<String> = Set(["alembic_version"] + GreyoakTables.all)

    /// A condition true when the object `oid` of catalog `catalog` is not a member of an
    /// extension: extension members belong to the extension's script, not to the schema.
    static func notFromExtension(_ catalog: String, _ oid: String) -> String {
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '\(catalog)'::regclass AND e.objid = \(oid) AND e.deptype = 'e')"
    }

    /// Functions that are part of another object (a range type's constructors): made and
    /// dropped with it, so not listed on their own.
    static func notInternalFunction(_ oid: String) -> String {
        "NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass AND i.objid = \(oid) AND i.deptype = 'i')"
    }

    /// Reads the schema named `schema`; the caller has put it first on the search path so
    /// that names in types, defaults and constraints come out unqualified.
    ///
    /// - Throws: ``GreyoakError`` `.databaseError` naming the query when the catalog gives a
    ///   NULL where PostgreSQL 15 never does.
    public static func read(_ connection: Connection, schema: String) throws -> SchemaCatalog {
        var catalog = SchemaCatalog()
        let ignored = ignoredTables.sorted().map(sqlLiteral).joined(separator: ", ")
        let relation = "n.nspname = $1 AND c.relname NOT IN (\(ignored)) AND \(notFromExtension("pg_class", "c.oid"))"
        catalog.keywords = Set(try connection.execute("SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'").column)
        catalog.schemaExists = try connection.execute("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schema])[0, 0] == "1"

        for row in try connection.catalogRows("""
            SELECT c.relname, c.relkind::text, pg_get_partkeydef(c.oid),
                   (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                    WHERE i.inhrelid = c.oid AND c.relispartition),
                   CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
                   (SELECT string_agg(p.relname, ',' ORDER BY i.inhseqno) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                    WHERE i.inhrelid = c.oid AND NOT c.relispartition)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND \(relation)
            """, [schema], reading: "relations of schema \(schema)") {
            let name = try row.text(0, "relname")
            switch row.optional(1) {
            case "r", "p":
                var table = Table(name: name, partitionKey: row.optional(2), partitionOf: row.optional(3), partitionBound: row.optional(4))
                table.inherits = row.optional(5)?.split(separator: ",").map(String.init) ?? []
                catalog.tables[name] = table
            case "v": catalog.otherRelations[name] = "view"
            case "m": catalog.otherRelations[name] = "materialized view"
            default: catalog.otherRelations[name] = "foreign table"
            }
        }
        for row in try connection.catalogRows("""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
                   CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN
                        (SELECT CASE WHEN l.collnamespace = 'pg_catalog'::regnamespace OR ln.nspname = $1
                                     THEN quote_ident(l.collname) ELSE quote_ident(ln.nspname) || '.' || quote_ident(l.collname) END
                         FROM pg_collation l JOIN pg_namespace ln ON ln.oid = l.collnamespace WHERE l.oid = a.attcollation) END
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND \(relation)
            ORDER BY c.relname, a.attnum
            """, [schema], reading: "columns of schema \(schema)") {
            let generated = row.optional(6) == "s"
            let collation = row.optional(7).map { " COLLATE \($0)" } ?? ""
            catalog.tables[try row.text(0, "relname")]?.columns.append(Column(
                name: try row.text(1, "attname"), type: try row.text(2, "column type") + collation, notNull: row.flag(3),
                defaultExpression: generated ? nil : row.optional(4),
                identity: row.optional(5).flatMap { $0.isEmpty ? nil : $0.first },
                generatedExpression: generated ? row.optional(4) : nil))
        }
        // Constraint triggers are read with the other triggers (``readObjects``).
        for row in try connection.catalogRows("""
            SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), f.relname
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_class f ON f.oid = k.confrelid
            WHERE k.contype <> 't' AND \(relation)
            """, [schema], reading: "constraints of schema \(schema)") {
            guard let kind = row.optional(2)?.first.flatMap(Constraint.Kind.init(rawValue:)) else { continue }
            let name = try row.text(1, "conname")
            catalog.tables[try row.text(0, "relname")]?.constraints[name] =
                Constraint(name: name, kind: kind, definition: try row.text(3, "constraint definition"), referencedTable: row.optional(4))
        }
        let quotedSchema = catalog.quote(schema)
        for row in try connection.catalogRows("""
            SELECT i.relname, pg_get_indexdef(x.indexrelid), c.relname,
                   EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid
                           AND k.contype IN ('p', 'u', 'x')),
                   i.relispartition
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE \(relation)
            """, [schema], reading: "indexes of schema \(schema)") {
            let name = try row.text(0, "index name")
            catalog.tables[try row.text(2, "relname")]?.indexes[name] = Index(
                name: name, definition: unqualified(try row.text(1, "index definition"), quotedSchema: quotedSchema), backsConstraint: row.flag(3),
                attachedToParent: row.flag(4))
        }
        for row in try connection.catalogRows("""
            SELECT t.typname, e.enumlabel
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 AND \(notFromExtension("pg_type", "t.oid"))
            ORDER BY t.typname, e.enumsortorder
            """, [schema], reading: "enum labels of schema \(schema)") {
            catalog.enums[try row.text(0, "typname"), default: []].append(try row.text(1, "enumlabel"))
        }
        // An enum without labels has no pg_enum row.
        for name in try connection.execute("""
            SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 AND t.typtype = 'e' AND \(notFromExtension("pg_type", "t.oid"))
            """, [schema]).column where catalog.enums[name] == nil {
            catalog.enums[name] = []
        }
        try readViews(connection, schema: schema, relation: relation, into: &catalog)
        try readDomains(connection, schema: schema, into: &catalog)
        try readCompositeAndRangeTypes(connection, schema: schema, into: &catalog)
        try readSequences(connection, schema: schema, relation: relation, ignored: ignored, into: &catalog)
        try readObjects(connection, schema: schema, relation: relation, into: &catalog)
        try readDependencies(connection, schema: schema, into: &catalog)
        catalog.partmanParents = try LoadPartitions.partmanParents(connection, schema: schema)
        return catalog
    }

    private static func readViews(_ connection: Connection, schema: String, relation: String,
                                  into catalog: inout SchemaCatalog) throws {
        for row in try connection.catalogRows("""
            SELECT c.relname, pg_get_viewdef(c.oid, true)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'v' AND \(relation)
            """, [schema], reading: "views of schema \(schema)") {
            let name = try row.text(0, "relname")
            catalog.views[name] = View(name: name, definition: try row.text(1, "view definition"), dependsOn: [])
        }
        for row in try connection.catalogRows("""
            SELECT DISTINCT c.relname, t.relname
            FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
            JOIN pg_class t ON t.oid = d.refobjid
            WHERE c.relkind = 'v' AND t.oid <> c.oid AND t.relnamespace = c.relnamespace AND \(relation)
            """, [schema], reading: "view dependencies of schema \(schema)") {
            catalog.views[try row.text(0, "relname")]?.dependsOn.insert(try row.text(1, "relname"))
        }
    }

    private static func readDomains(_ connection: Connection, schema: String, into catalog: inout SchemaCatalog) throws {
        for row in try connection.catalogRows("""
            SELECT t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 AND t.typtype = 'd' AND \(notFromExtension("pg_type", "t.oid"))
            """, [schema], reading: "domains of schema \(schema)") {
            let name = try row.text(0, "typname")
            catalog.domains[name] = Domain(name: name, baseType: try row.text(1, "domain base type"), notNull: row.flag(2),
                                           defaultExpression: row.optional(3), checks: [:])
        }
        for row in try connection.catalogRows("""
            SELECT t.typname, k.conname, pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1
            """, [schema], reading: "domain constraints of schema \(schema)") {
            catalog.domains[try row.text(0, "typname")]?.checks[try row.text(1, "conname")] = try row.text(2, "constraint definition")
        }
    }

    /// Sequences other than identity columns' (those belong to their column) and those of
    /// greyoak's bookkeeping tables.
    private static func readSequences(_ connection: Connection, schema: String, relation: String, ignored: String,
                                      into catalog: inout SchemaCatalog) throws {
        for row in try connection.catalogRows("""
            SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                   s.seqcache, s.seqcycle, o.relname, o.attname
            FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN LATERAL (
                SELECT t.relname, a.attname, d.deptype FROM pg_depend d
                JOIN pg_class t ON t.oid = d.refobjid
                JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                  AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
            ) o ON true
            WHERE \(relation) AND o.deptype IS DISTINCT FROM 'i' AND (o.relname IS NULL OR o.relname NOT IN (\(ignored)))
            """, [schema], reading: "sequences of schema \(schema)") {
            let name = try row.text(0, "relname")
            let owner = try row.optional(8).map { ($0, try row.text(9, "owning column")) }
            catalog.sequences[name] = Sequence(
                name: name, type: try row.text(1, "sequence type"), start: try row.text(2, "seqstart"), increment: try row.text(3, "seqincrement"),
                minimum: try row.text(4, "seqmin"), maximum: try row.text(5, "seqmax"), cache: try row.text(6, "seqcache"),
                cycle: row.flag(7), ownedBy: owner)
        }
    }

    /// `pg_get_indexdef` always names the table with its schema; without it, the same
    /// index in another schema reads the same. A temporary schema (verify's replay for a
    /// role without CREATE) prints as `pg_temp`, whatever its real name.
    static func unqualified(_ definition: String, quotedSchema: String) -> String {
        var text = definition
        for schema in [quotedSchema, "pg_temp"] {
            text = text.replacingOccurrences(of: " ON ONLY \(schema).", with: " ON ONLY ")
                .replacingOccurrences(of: " ON \(schema).", with: " ON ")
        }
        return text
    }
}
