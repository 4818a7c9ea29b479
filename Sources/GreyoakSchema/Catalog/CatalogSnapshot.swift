import GreyoakPostgres
/// The parts of a schema that migrations define, read from PostgreSQL's catalog in a form
/// that compares equal when two schemas were built by the same SQL.
///
/// Keys name the object (`column scores.band`), values describe it
/// (`band_enum NULL DEFAULT none`). Greyoak's own bookkeeping tables and objects that belong
/// to an extension are left out (see ``SchemaCatalog``).
public struct CatalogSnapshot: Equatable, Sendable {
    public var objects: [String: String] = [:]

    static let ignoredTables = SchemaCatalog.ignoredTables

    /// Reads the schema named `schema`; the caller has put it first on the search path so
    /// that type names come out unqualified.
    package static func read(_ connection: Connection, schema: String) throws -> CatalogSnapshot {
        CatalogSnapshot(try SchemaCatalog.read(connection, schema: schema))
    }

    /// The catalog as sentences' parts: the shapes `db verify` has always printed, plus
    /// view definitions, sequences, domains, identity and generated columns, and every
    /// ``SchemaCatalog/Object`` (functions, triggers, policies, grants, comments, extensions…).
    public init(_ catalog: SchemaCatalog) {
        for (name, kind) in catalog.otherRelations { objects["relation \(name)"] = kind }
        for view in catalog.views.values { objects["view \(view.name)"] = view.definition }
        for table in catalog.tables.values {
            var relation = table.partitionKey.map { "table PARTITION BY \($0)" } ?? "table"
            if let parent = table.partitionOf { relation += " PARTITION OF \(parent) \(table.partitionBound ?? "")" }
            if !table.inherits.isEmpty { relation += " INHERITS (\(table.inherits.joined(separator: ", ")))" }
            objects["relation \(table.name)"] = relation
            for column in table.columns {
                var text = "\(column.type) \(column.notNull ? "NOT NULL" : "NULL") DEFAULT \(column.defaultExpression ?? "none")"
                if let identity = column.identity { text += identity == "a" ? " IDENTITY ALWAYS" : " IDENTITY BY DEFAULT" }
                if let expression = column.generatedExpression { text += " GENERATED ALWAYS AS (\(expression)) STORED" }
                objects["column \(table.name).\(column.name)"] = text
            }
            for constraint in table.constraints.values { objects["constraint \(constraint.name) on \(table.name)"] = constraint.definition }
            for index in table.indexes.values { objects["index \(index.name)"] = index.definition }
        }
        for index in catalog.handMadePartitionIndexes.values { objects["index \(index.name)"] = index.definition }
        for object in catalog.objects.values { objects[object.key] = object.definition }
        for (name, labels) in catalog.enums { objects["enum \(name)"] = "(\(labels.joined(separator: ", ")))" }
        for domain in catalog.domains.values {
            let checks = domain.checks.sorted { $0.key < $1.key }.map { " CONSTRAINT \($0.key) \($0.value)" }.joined()
            objects["domain \(domain.name)"] =
                "\(domain.baseType) \(domain.notNull ? "NOT NULL" : "NULL") DEFAULT \(domain.defaultExpression ?? "none")\(checks)"
        }
        for sequence in catalog.sequences.values {
            objects["sequence \(sequence.name)"] = "AS \(sequence.type) START \(sequence.start) INCREMENT \(sequence.increment) "
                + "MINVALUE \(sequence.minimum) MAXVALUE \(sequence.maximum) CACHE \(sequence.cache)\(sequence.cycle ? " CYCLE" : "")"
                + (sequence.ownedBy.map { " OWNED BY \($0.table).\($0.column)" } ?? "")
        }
    }

    /// Every difference from `expected`, in a stable order, as sentences.
    public func differences(from expected: CatalogSnapshot) -> [String] {
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

    public var summary: String {
        func count(_ prefix: String) -> Int { objects.keys.filter { $0.hasPrefix(prefix) }.count }
        return "\(count("relation ")) tables, \(count("column ")) columns, \(count("constraint ")) constraints, \(count("index ")) indexes, \(count("enum ")) enum types"
    }
}
