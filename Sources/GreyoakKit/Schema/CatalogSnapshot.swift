/// The parts of a schema that migrations define, read from PostgreSQL's catalog in a form
/// that compares equal when two schemas were built by the same SQL.
///
/// Keys name the object (`column scores.band`), values describe it
/// (`band_enum NULL DEFAULT none`). Greyoak's own bookkeeping tables are left out.
struct CatalogSnapshot: Equatable {
    var objects: [String: String] = [:]

    static let ignoredTables: Set<String> = Set(["alembic_version"] + Bookkeeping.tables)

    /// Reads the schema named `schema`; the caller has put it first on the search path so
    /// that type names come out unqualified.
    static func read(_ connection: Connection, schema: String) throws -> CatalogSnapshot {
        var snapshot = CatalogSnapshot()
        let ignored = ignoredTables.map { "'\($0)'" }.joined(separator: ", ")
        for row in try connection.execute("""
            SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname NOT IN (\(ignored))
            """, [schema]).rows {
            let kind = ["r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table"][row[1] ?? ""] ?? "relation"
            snapshot.objects["relation \(row[0]!)"] = kind
        }
        for row in try connection.execute("""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relname NOT IN (\(ignored))
            """, [schema]).rows {
            snapshot.objects["column \(row[0]!).\(row[1]!)"] =
                "\(row[2]!) \(row[3] == "t" ? "NOT NULL" : "NULL") DEFAULT \(row[4] ?? "none")"
        }
        for row in try connection.execute("""
            SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = k.connamespace
            WHERE n.nspname = $1 AND c.relname NOT IN (\(ignored))
            """, [schema]).rows {
            snapshot.objects["constraint \(row[1]!) on \(row[0]!)"] = row[2]!
        }
        for row in try connection.execute("""
            SELECT i.relname, pg_get_indexdef(x.indexrelid), t.relname
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = i.relnamespace
            WHERE n.nspname = $1 AND t.relname NOT IN (\(ignored))
            """, [schema]).rows {
            // A temporary schema prints as pg_temp (verify replays there for a role without CREATE).
            snapshot.objects["index \(row[0]!)"] = row[1]!.replacingOccurrences(of: " ON \(schema).", with: " ON ")
                .replacingOccurrences(of: " ON pg_temp.", with: " ON ")
        }
        for row in try connection.execute("""
            SELECT t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 GROUP BY t.typname
            """, [schema]).rows {
            snapshot.objects["enum \(row[0]!)"] = "(\(row[1]!))"
        }
        return snapshot
    }

    /// Every difference from `expected`, in a stable order, as sentences.
    func differences(from expected: CatalogSnapshot) -> [String] {
        let keys = Set(objects.keys).union(expected.objects.keys).sorted()
        return keys.compactMap { key in
            switch (expected.objects[key], objects[key]) {
            case let (want?, nil): return "\(key) is missing (the migrations make \(want))"
            case let (nil, have?): return "\(key) is not made by any migration (found \(have))"
            case let (want?, have?) where want != have: return "\(key) differs: the migrations make \(want), the database has \(have)"
            default: return nil
            }
        }
    }

    var summary: String {
        func count(_ prefix: String) -> Int { objects.keys.filter { $0.hasPrefix(prefix) }.count }
        return "\(count("relation ")) tables, \(count("column ")) columns, \(count("constraint ")) constraints, \(count("index ")) indexes, \(count("enum ")) enum types"
    }
}
