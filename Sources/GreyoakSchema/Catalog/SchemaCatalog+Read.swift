import GreyoakPostgres
extension SchemaCatalog {
    /// Greyoak's own bookkeeping tables: never part of a migration.
    static let ignoredTables: Set<String> = Set(["alembic_version"] + GreyoakTables.all)

    /// A condition true when the object `oid` of catalog `catalog` is not a member of an
    /// extension: extension members belong to the extension's script, not to the schema.
    static func notFromExtension(_ catalog: String, _ oid: String) -> String {
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '\(catalog)'::regclass AND e.objid = \(oid) AND e.deptype = 'e')"
    }

    /// Reads the schema named `schema`; the caller has put it first on the search path so
    /// that names in types, defaults and constraints come out unqualified.
    public static func read(_ connection: Connection, schema: String) throws -> SchemaCatalog {
        var catalog = SchemaCatalog()
        let ignored = ignoredTables.sorted().map(sqlLiteral).joined(separator: ", ")
        let relation = "n.nspname = $1 AND c.relname NOT IN (\(ignored)) AND \(notFromExtension("pg_class", "c.oid"))"
        catalog.keywords = Set(try connection.execute("SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'").column)

        for row in try connection.execute("""
            SELECT c.relname, c.relkind, pg_get_partkeydef(c.oid),
                   (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                    WHERE i.inhrelid = c.oid AND c.relispartition)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND \(relation)
            """, [schema]).rows {
            let name = row[0]!
            switch row[1] {
            case "r", "p": catalog.tables[name] = Table(name: name, partitionKey: row[2], partitionOf: row[3])
            case "v": catalog.otherRelations[name] = "view"
            case "m": catalog.otherRelations[name] = "materialized view"
            default: catalog.otherRelations[name] = "foreign table"
            }
        }
        for row in try connection.execute("""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND \(relation)
            ORDER BY c.relname, a.attnum
            """, [schema]).rows {
            let generated = row[6] == "s"
            catalog.tables[row[0]!]?.columns.append(Column(
                name: row[1]!, type: row[2]!, notNull: row[3] == "t",
                defaultExpression: generated ? nil : row[4],
                identity: row[5].flatMap { $0.isEmpty ? nil : $0.first },
                generatedExpression: generated ? row[4] : nil))
        }
        for row in try connection.execute("""
            SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), f.relname
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_class f ON f.oid = k.confrelid
            WHERE \(relation)
            """, [schema]).rows {
            guard let kind = row[2]?.first.flatMap(Constraint.Kind.init(rawValue:)) else { continue }
            catalog.tables[row[0]!]?.constraints[row[1]!] =
                Constraint(name: row[1]!, kind: kind, definition: row[3]!, referencedTable: row[4])
        }
        let quotedSchema = catalog.quote(schema)
        for row in try connection.execute("""
            SELECT i.relname, pg_get_indexdef(x.indexrelid), c.relname,
                   EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid
                           AND k.contype IN ('p', 'u', 'x'))
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE \(relation)
            """, [schema]).rows {
            catalog.tables[row[2]!]?.indexes[row[0]!] = Index(
                name: row[0]!, definition: unqualified(row[1]!, quotedSchema: quotedSchema), backsConstraint: row[3] == "t")
        }
        for row in try connection.execute("""
            SELECT t.typname, e.enumlabel
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 AND \(notFromExtension("pg_type", "t.oid"))
            ORDER BY t.typname, e.enumsortorder
            """, [schema]).rows {
            catalog.enums[row[0]!, default: []].append(row[1]!)
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
        try readSequences(connection, schema: schema, relation: relation, ignored: ignored, into: &catalog)
        return catalog
    }

    private static func readViews(_ connection: Connection, schema: String, relation: String,
                                  into catalog: inout SchemaCatalog) throws {
        for row in try connection.execute("""
            SELECT c.relname, pg_get_viewdef(c.oid, true)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'v' AND \(relation)
            """, [schema]).rows {
            catalog.views[row[0]!] = View(name: row[0]!, definition: row[1]!, dependsOn: [])
        }
        for row in try connection.execute("""
            SELECT DISTINCT c.relname, t.relname
            FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
            JOIN pg_class t ON t.oid = d.refobjid
            WHERE c.relkind = 'v' AND t.oid <> c.oid AND t.relnamespace = c.relnamespace AND \(relation)
            """, [schema]).rows {
            catalog.views[row[0]!]?.dependsOn.insert(row[1]!)
        }
    }

    private static func readDomains(_ connection: Connection, schema: String, into catalog: inout SchemaCatalog) throws {
        for row in try connection.execute("""
            SELECT t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 AND t.typtype = 'd' AND \(notFromExtension("pg_type", "t.oid"))
            """, [schema]).rows {
            catalog.domains[row[0]!] = Domain(name: row[0]!, baseType: row[1]!, notNull: row[2] == "t",
                                              defaultExpression: row[3], checks: [:])
        }
        for row in try connection.execute("""
            SELECT t.typname, k.conname, pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1
            """, [schema]).rows {
            catalog.domains[row[0]!]?.checks[row[1]!] = row[2]!
        }
    }

    /// Sequences other than identity columns' (those belong to their column) and those of
    /// greyoak's bookkeeping tables.
    private static func readSequences(_ connection: Connection, schema: String, relation: String, ignored: String,
                                      into catalog: inout SchemaCatalog) throws {
        for row in try connection.execute("""
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
            """, [schema]).rows {
            catalog.sequences[row[0]!] = Sequence(
                name: row[0]!, type: row[1]!, start: row[2]!, increment: row[3]!, minimum: row[4]!, maximum: row[5]!,
                cache: row[6]!, cycle: row[7] == "t", ownedBy: row[8].map { ($0, row[9]!) })
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
