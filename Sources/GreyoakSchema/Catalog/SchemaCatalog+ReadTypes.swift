import GreyoakPostgres

extension SchemaCatalog {
    /// Reads composite types (`CREATE TYPE t AS (…)`, not a table's row type) and range types
    /// of schema `schema` as ``Object``s, leaving out those of extensions.
    static func readCompositeAndRangeTypes(_ connection: Connection, schema: String, into catalog: inout SchemaCatalog) throws {
        let quoting = catalog
        func q(_ name: String) -> String { quoting.quote(name) }
        var composites: [String: [Object.Attribute]] = [:]
        // A collation other than the attribute type's is named; regcollation qualifies it
        // only when the search path does not reach it.
        for row in try connection.catalogRows("""
            SELECT t.typname, a.attname, format_type(a.atttypid, a.atttypmod),
                   CASE WHEN a.attcollation <> 0 AND a.attcollation <> y.typcollation THEN a.attcollation::regcollation::text END
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_type y ON y.oid = a.atttypid
            WHERE n.nspname = $1 AND t.typtype = 'c' AND \(notFromExtension("pg_type", "t.oid"))
            ORDER BY t.typname, a.attnum
            """, [schema], reading: "composite types of schema \(schema)") {
            let name = try row.text(0, "typname")
            guard let attribute = row.optional(1) else { composites[name, default: []] = []; continue }
            let type = try row.text(2, "attribute type") + (row.optional(3).map { " COLLATE \($0)" } ?? "")
            composites[name, default: []].append(Object.Attribute(name: attribute, type: type))
        }
        for (name, attributes) in composites {
            let list = "(\(attributes.map { "\(q($0.name)) \($0.type)" }.joined(separator: ", ")))"
            var object = Object(kind: .compositeType, name: name, definition: list,
                                create: ["CREATE TYPE \(q(name)) AS \(list)"], drop: ["DROP TYPE \(q(name))"])
            object.attributes = attributes
            catalog.add(object)
        }
        for row in try connection.catalogRows("""
            SELECT t.typname, format_type(r.rngsubtype, NULL),
                   CASE WHEN NOT o.opcdefault THEN
                        CASE WHEN on_.nspname IN ('pg_catalog', $1) THEN '' ELSE quote_ident(on_.nspname) || '.' END || quote_ident(o.opcname) END,
                   CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> s.typcollation THEN r.rngcollation::regcollation::text END,
                   CASE WHEN r.rngcanonical::oid <> 0 THEN r.rngcanonical::regproc::text END,
                   CASE WHEN r.rngsubdiff::oid <> 0 THEN r.rngsubdiff::regproc::text END,
                   m.typname
            FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid JOIN pg_namespace n ON n.oid = t.typnamespace
            JOIN pg_type s ON s.oid = r.rngsubtype
            JOIN pg_opclass o ON o.oid = r.rngsubopc JOIN pg_namespace on_ ON on_.oid = o.opcnamespace
            LEFT JOIN pg_type m ON m.oid = r.rngmultitypid
            WHERE n.nspname = $1 AND \(notFromExtension("pg_type", "t.oid"))
            """, [schema], reading: "range types of schema \(schema)") {
            let name = try row.text(0, "typname")
            var options = ["subtype = \(try row.text(1, "range subtype"))"]
            if let opclass = row.optional(2) { options.append("subtype_opclass = \(opclass)") }
            if let collation = row.optional(3) { options.append("collation = \(collation)") }
            if let canonical = row.optional(4) { options.append("canonical = \(canonical)") }
            if let diff = row.optional(5) { options.append("subtype_diff = \(diff)") }
            if let multirange = row.optional(6), multirange != defaultMultirangeName(of: name) {
                options.append("multirange_type_name = \(q(multirange))")
            }
            let list = options.joined(separator: ", ")
            catalog.add(Object(kind: .rangeType, name: name, definition: list,
                               create: ["CREATE TYPE \(q(name)) AS RANGE (\(list))"], drop: ["DROP TYPE \(q(name))"]))
        }
    }

    /// The multirange type PostgreSQL names for range type `name` when none is given: the
    /// first `range` in the name becomes `multirange`, else `_multirange` is appended.
    static func defaultMultirangeName(of name: String) -> String {
        guard let range = name.range(of: "range") else { return name + "_multirange" }
        return name.replacingCharacters(in: range, with: "multirange")
    }
}
