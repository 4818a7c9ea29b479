import GreyoakPostgres
/// One schema's objects as migrations define them, read from PostgreSQL's catalog.
///
/// Definitions are kept as the server prints them (`format_type`, `pg_get_expr`,
/// `pg_get_constraintdef`, `pg_get_indexdef`) with the schema's own name left out, so that
/// two schemas built by the same SQL compare equal, and so that a definition can be written
/// back as SQL by ``SchemaDiff``. Objects that belong to an extension (`pg_depend.deptype =
/// 'e'`, such as the views Citus puts in `public` or the `lo` domain) and greyoak's own
/// bookkeeping tables are left out: no migration of this project makes them.
public struct SchemaCatalog: Equatable, Sendable {
    public struct Column: Equatable, Sendable {
        public var name: String
        /// `format_type`, e.g. `character varying(20)`, `band_enum`, `integer[]`, followed by
        /// `COLLATE name` when the column's collation is not its type's.
        public var type: String
        public var notNull: Bool
        /// `pg_get_expr` of the default; nil without one (and for identity and generated columns).
        public var defaultExpression: String?
        /// `a` (ALWAYS) or `d` (BY DEFAULT) for identity columns, else nil.
        public var identity: Character?
        /// The expression of a stored generated column.
        public var generatedExpression: String?
    }

    public struct Constraint: Equatable, Sendable {
        public enum Kind: Character, Sendable { case primaryKey = "p", unique = "u", check = "c", foreignKey = "f", exclusion = "x", trigger = "t" }
        public var name: String
        public var kind: Kind
        /// `pg_get_constraintdef`: `PRIMARY KEY (id)`, `CHECK ((score >= 0))`, `FOREIGN KEY (a) REFERENCES t(id)`.
        public var definition: String
        /// The table a foreign key points at.
        public var referencedTable: String?
    }

    public struct Index: Equatable, Sendable {
        public var name: String
        /// `pg_get_indexdef` without the schema: `CREATE UNIQUE INDEX i ON t USING btree (lower(name)) WHERE …`.
        public var definition: String
        /// True for the index of a primary key, unique or exclusion constraint, which the
        /// constraint makes and drops.
        public var backsConstraint: Bool
        /// True for a partition's index that is attached to an index of its parent (made by
        /// the parent's, or matched at `ATTACH PARTITION`), as opposed to one made on the
        /// partition alone.
        public var attachedToParent = false
    }

    public struct Table: Equatable, Sendable {
        public var name: String
        public var partitionKey: String?
        /// The partitioned table this one is a partition of.
        public var partitionOf: String?
        /// A partition's bounds: `FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`.
        public var partitionBound: String?
        /// The tables it inherits from (`INHERITS`), in order.
        public var inherits: [String] = []
        /// In attribute order.
        public var columns: [Column] = []
        public var constraints: [String: Constraint] = [:]
        public var indexes: [String: Index] = [:]

        public func column(_ name: String) -> Column? { columns.first { $0.name == name } }
    }

    public struct Sequence: Equatable, Sendable {
        public var name: String
        public var type: String
        public var start, increment, minimum, maximum, cache: String
        public var cycle: Bool
        /// The column that owns it (`serial`, `OWNED BY`); identity sequences are not listed.
        public var ownedBy: (table: String, column: String)?

        public static func == (a: Sequence, b: Sequence) -> Bool {
            a.name == b.name && a.type == b.type && a.start == b.start && a.increment == b.increment
                && a.minimum == b.minimum && a.maximum == b.maximum && a.cache == b.cache && a.cycle == b.cycle
                && a.ownedBy?.table == b.ownedBy?.table && a.ownedBy?.column == b.ownedBy?.column
        }
    }

    public struct Domain: Equatable, Sendable {
        public var name: String
        public var baseType: String
        public var notNull: Bool
        public var defaultExpression: String?
        /// Name to `pg_get_constraintdef`.
        public var checks: [String: String]
    }

    public struct View: Equatable, Sendable {
        public var name: String
        /// `pg_get_viewdef`: the query, as the server prints it.
        public var definition: String
        /// The tables and views of the schema it reads.
        public var dependsOn: Set<String>
    }

    public var tables: [String: Table] = [:]
    /// Views, materialized views and foreign tables: name to kind.
    public var otherRelations: [String: String] = [:]
    /// Plain views (materialized views and foreign tables are compared by kind only).
    public var views: [String: View] = [:]
    public var sequences: [String: Sequence] = [:]
    /// Enum types and their labels in sort order.
    public var enums: [String: [String]] = [:]
    public var domains: [String: Domain] = [:]
    /// Everything else, by ``Object/key``.
    public var objects: [String: Object] = [:]
    /// Words that must be quoted as identifiers (every keyword that is not unreserved).
    public var keywords: Set<String> = []
    /// What each object depends on, by node (see ``readDependencies(_:schema:into:)``): how a
    /// migration orders what it makes and drops. Not compared.
    public var dependencies: [String: Set<String>] = [:]
    /// Whether the schema exists at all (an empty one does); compared by `--schema`'s callers.
    public var schemaExists = true
    /// The partitioned tables pg_partman manages in this schema (its `part_config`): their
    /// partitions are data (see ``LoadPartitions``).
    public var partmanParents: Set<String> = []
    /// Indexes made by hand on a partition that is data (see ``LoadPartitions``): the
    /// partition is left out, these still count.
    public var handMadePartitionIndexes: [String: Index] = [:]

    public static func == (a: SchemaCatalog, b: SchemaCatalog) -> Bool {
        a.tables == b.tables && a.otherRelations == b.otherRelations && a.views == b.views && a.sequences == b.sequences
            && a.enums == b.enums && a.domains == b.domains && a.objects == b.objects
            && a.handMadePartitionIndexes == b.handMadePartitionIndexes
    }

    /// `name` as an SQL identifier, quoted the way `quote_ident` would.
    public func quote(_ name: String) -> String {
        let plain = name.unicodeScalars.first.map { ("a"..."z").contains($0) || $0 == "_" } == true
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "$" }
        return plain && !keywords.contains(name) ? name : "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// An SQL string literal.
func sqlLiteral(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
