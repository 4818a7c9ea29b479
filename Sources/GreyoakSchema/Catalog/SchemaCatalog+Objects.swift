import GreyoakPostgres
extension SchemaCatalog {
    /// An object other than tables, columns, constraints, indexes, enums, domains, sequences and
    /// views: functions, triggers, policies, row-level security, grants, comments, extensions,
    /// collations, composite and range types, materialized views and their indexes.
    ///
    /// Each carries the SQL that makes and removes it, written when it is read, so that
    /// ``SchemaDiff`` handles every kind the same way; ``Kind`` says when each runs.
    public struct Object: Equatable, Sendable {
        /// In the order they are made; removed in the reverse.
        public enum Kind: String, CaseIterable, Sendable {
            // Made before tables: columns, defaults and checks use them.
            case `extension`, collation, compositeType = "composite type", rangeType = "range type", function, procedure
            // Made after tables and views: they hang on them.
            case materializedView = "materialized view", materializedViewIndex = "index"
            case trigger, rowLevelSecurity = "row level security", policy, grant, defaultPrivileges = "default privileges", comment

            /// Made before the tables (and dropped after them).
            public var isEarly: Bool { [.extension, .collation, .compositeType, .rangeType, .function, .procedure].contains(self) }
        }

        /// An attribute of a composite type: its name, and its type as `format_type` prints it
        /// (with `COLLATE` when not its type's).
        public struct Attribute: Equatable, Sendable {
            public var name: String
            public var type: String
        }

        public var kind: Kind
        /// What names it within its kind: `touch()`, `scores_touch on scores`, `SELECT on TABLE scores to reporting`.
        public var name: String
        /// What is compared: the server's own text where it has one (`pg_get_functiondef`,
        /// `pg_get_triggerdef`), else the statement that makes it.
        public var definition: String
        public var create: [String]
        public var drop: [String]
        /// How a changed one is brought to its new definition in place (`CREATE OR REPLACE`,
        /// `ALTER EXTENSION … UPDATE`); nil when it is dropped and made again.
        public var alter: [String]?
        /// The relations (and `table.column`s) it hangs on: when one is dropped and made again,
        /// so is this object.
        public var hangsOn: Set<String> = []
        /// Tables and views a materialized view reads.
        public var reads: Set<String> = []
        /// A function's result and arguments (names and defaults too): when they change,
        /// `CREATE OR REPLACE` cannot, so it is dropped and made again.
        public var shape: String?
        /// An extension's version, and the versions its update scripts reach from it.
        public var version: String?
        public var reachableVersions: Set<String> = []
        /// A composite type's attributes, in order.
        public var attributes: [Attribute] = []
        /// Whether it belongs to the schema itself (its grants, default privileges, comment),
        /// which a scratch schema cannot reproduce.
        public var schemaLevel = false

        /// The key in ``SchemaCatalog/objects`` and in `verify`'s sentences: `trigger scores_touch on scores`.
        public var key: String { "\(kind.rawValue) \(name)" }
    }

    mutating func add(_ object: Object) { objects[object.key] = object }

    /// The catalog without what belongs to the database rather than to one schema
    /// (extensions, default privileges for every schema), which every schema's catalog
    /// holds: when several schemas are compared, only the first keeps them.
    public func withoutDatabaseLevelObjects() -> SchemaCatalog {
        var copy = self
        copy.objects = copy.objects.filter { $0.value.kind != .extension && !($0.value.kind == .defaultPrivileges && !$0.value.name.contains(" IN SCHEMA ")) }
        return copy
    }

    /// The catalog without what belongs to the schema itself: compared only between databases.
    func withoutSchemaLevelObjects() -> SchemaCatalog {
        var copy = self
        copy.objects = copy.objects.filter { !$0.value.schemaLevel }
        return copy
    }
}
