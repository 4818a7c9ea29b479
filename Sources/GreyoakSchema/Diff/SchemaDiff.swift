import Foundation

/// The statements that turn the schema `from` into the schema `to`.
///
/// Three steps, one file each: this type works out the typed ``SchemaOperation``s, each in
/// its ``DiffOrdering/Phase``; ``DiffOrdering`` puts them in running order; ``SQLRenderer``
/// writes them as SQL. A downgrade is the same computation the other way round.
///
/// Renames are never guessed: a renamed table or column reads as a drop and an add, and a
/// comment says so. Statements that can lose data carry ``SchemaChange/destructive``.
public struct SchemaDiff {
    public let from: SchemaCatalog
    public let to: SchemaCatalog
    /// In running order.
    public private(set) var operations: [SchemaOperation] = []
    /// The operations as SQL.
    public var changes: [SchemaChange] { SQLRenderer(catalog: to.keywords.isEmpty ? from : to).render(operations) }

    typealias Phase = DiffOrdering.Phase
    private var planned: [(Phase, SchemaOperation)] = []

    let keptTables: [String], newTables: [String], droppedTables: [String]
    /// Tables whose column types or keys change: foreign keys from and to them are dropped
    /// first and added again after, since PostgreSQL refuses to change what they rely on.
    private var shakenTables: Set<String> = []
    private var droppedForeignKeys: Set<String> = []
    /// `table.column` whose default an enum rebuild already set.
    var defaultsSet: Set<String> = []
    var rebuiltEnums: [String] = []
    var sequencesDropped: Set<String> = []
    /// Enums that are made anew (``rebuildEnum(_:old:new:)``) rather than given new values.
    var enumsToRebuild: Set<String> = []
    /// Views dropped first and made last: new or changed ones, and those that read a table
    /// whose columns change (PostgreSQL refuses to change a column a view reads).
    var viewsToDrop: Set<String> = [], viewsToCreate: Set<String> = []
    var viewsToRemake: Set<String> { viewsToDrop.intersection(viewsToCreate) }
    /// Nodes of `from` (see ``SchemaCatalog/dependencies``) that this migration drops or
    /// changes, and those that depend on them and so are dropped and made again: why, by node.
    var remadeNodes: [String: String] = [:]
    /// Columns of new or dropped tables whose default is set after the table is made, or
    /// dropped before it is: the default calls a function that depends on the table.
    var defaultsApart: Set<String> = []

    public init(from: SchemaCatalog, to: SchemaCatalog) {
        self.from = from
        self.to = to
        // Partitions follow their parent's indexes and constraints; greyoak does not write them.
        let partitions = Set(from.tables.values.filter { $0.partitionOf != nil }.map(\.name))
            .union(to.tables.values.filter { $0.partitionOf != nil }.map(\.name))
        keptTables = from.tables.keys.filter { to.tables[$0] != nil && !partitions.contains($0) }.sorted()
        newTables = to.tables.keys.filter { from.tables[$0] == nil && !partitions.contains($0) }.sorted()
        droppedTables = from.tables.keys.filter { to.tables[$0] == nil && !partitions.contains($0) }.sorted()
        enumsToRebuild = Set(from.enums.keys.filter { name in
            guard let old = from.enums[name], let new = to.enums[name], old != new else { return false }
            return !Self.isSubsequence(old, of: new) || Self.uses(new.filter { !old.contains($0) }, of: name, in: to)
        })
        shakenTables = Set(keptTables.filter { name in
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            let keysChanged = a.constraints.values.contains { [.primaryKey, .unique].contains($0.kind) && b.constraints[$0.name] != $0 }
            let typesChanged = a.columns.contains { column in
                b.column(column.name).map { $0.type != column.type || enumsToRebuild.contains(Self.enumName(column.type)) } ?? false
            }
            return keysChanged || typesChanged
        })

        let reshaped = Set(keptTables.filter { name in
            from.tables[name]!.columns.contains { column in
                guard let other = to.tables[name]!.column(column.name) else { return true }
                return other.type != column.type || other.generatedExpression != column.generatedExpression
                    || enumsToRebuild.contains(Self.enumName(column.type))
            }
        } + droppedTables)
        var dropping = Set(from.views.values.filter { to.views[$0.name] != $0 || !$0.dependsOn.isDisjoint(with: reshaped) }.map(\.name))
        while true {
            let more = dropping.union(from.views.values.filter { !$0.dependsOn.isDisjoint(with: dropping) }.map(\.name))
            if more == dropping { break }
            dropping = more
        }
        remadeNodes = Self.dependentsRemade(from: from, to: to, views: dropping, seeds: Self.changedNodes(from: from, to: to, kept: keptTables, dropped: droppedTables, enumsToRebuild: enumsToRebuild))
        dropping.formUnion(from.views.keys.filter { remadeNodes["rel \($0)"] != nil })
        viewsToDrop = dropping
        viewsToCreate = Set(to.views.keys.filter { from.views[$0] == nil || dropping.contains($0) })

        for name in viewsToDrop { add(.dropView(name), in: .dropViews) }
        changePartitions(partitions)
        changeObjects(reshaped: reshaped)
        dropForeignKeys()
        dropConstraints()
        dropIndexes()
        noteOtherRelations()
        dropTables()
        dropColumns()
        dropIdentities()
        changeEnums()
        changeDomains()
        createSequences()
        for name in newTables { createTable(to.tables[name]!) }
        for name in to.tables.keys.sorted() where from.tables[name] == nil {
            if let table = to.tables[name], let parent = table.partitionOf {
                add(.createPartition(name, parent: parent, bound: table.partitionBound ?? "DEFAULT", partitionKey: table.partitionKey), in: .createTables)
            }
        }
        changeColumns()
        addConstraints()
        addForeignKeys()
        setSequenceOwners()
        createIndexes()
        for name in viewsToCreate { add(.createView(name, query: to.views[name]!.definition), in: .createViews) }
        dropUnusedTypesAndSequences()
        operations = DiffOrdering.order(planned, from: from, to: to, defaultsApart: defaultsApart)
    }

    func q(_ name: String) -> String { (to.keywords.isEmpty ? from : to).quote(name) }
    mutating func add(_ operation: SchemaOperation, in phase: Phase) { planned.append((phase, operation)) }

    // MARK: - What goes first

    private mutating func dropForeignKeys() {
        for name in from.tables.keys.sorted() where from.tables[name]!.partitionOf == nil {
            let table = from.tables[name]!
            for key in table.constraints.values.filter({ $0.kind == .foreignKey }).sorted(by: { $0.name < $1.name }) {
                let same = to.tables[name]?.constraints[key.name] == key
                let shaken = shakenTables.contains(name) || shakenTables.contains(key.referencedTable ?? "")
                guard !same || shaken else { continue }
                if same { droppedForeignKeys.insert("\(name).\(key.name)") }
                add(.dropForeignKey(table: name, name: key.name, readded: same), in: .dropForeignKeys)
            }
        }
    }

    private static let dropOrder: [SchemaCatalog.Constraint.Kind] = [.check, .exclusion, .trigger, .unique, .primaryKey]
    private static let addOrder: [SchemaCatalog.Constraint.Kind] = [.primaryKey, .unique, .exclusion, .check, .trigger]

    /// Constraints other than foreign keys of kept tables that `a` has and `b` lacks or must remake.
    private func changedConstraints(_ name: String, _ a: SchemaCatalog.Table, _ b: SchemaCatalog.Table,
                                    order: [SchemaCatalog.Constraint.Kind]) -> [SchemaCatalog.Constraint] {
        a.constraints.values.filter { $0.kind != .foreignKey && (b.constraints[$0.name] != $0 || mustRemake($0.definition, on: name)) }
            .sorted { (order.firstIndex(of: $0.kind)!, $0.name) < (order.firstIndex(of: $1.kind)!, $1.name) }
    }

    private mutating func dropConstraints() {
        for name in keptTables {
            for constraint in changedConstraints(name, from.tables[name]!, to.tables[name]!, order: Self.dropOrder) {
                add(.dropConstraint(table: name, name: constraint.name), in: .dropConstraints)
            }
        }
    }

    private mutating func dropIndexes() {
        for name in keptTables {
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            for index in a.indexes.values.filter({ !$0.backsConstraint && (b.indexes[$0.name] != $0 || mustRemake($0.definition, on: name)) })
                .sorted(by: { $0.name < $1.name }) {
                add(.dropIndex(index.name), in: .dropIndexes)
            }
        }
    }

    private mutating func noteOtherRelations() {
        for name in Set(from.otherRelations.keys).union(to.otherRelations.keys).sorted()
        where from.otherRelations[name] != to.otherRelations[name]
            && !["view", "materialized view"].contains(from.otherRelations[name] ?? to.otherRelations[name]) {
            let what = to.otherRelations[name].map { "create \($0) \(name)" } ?? "drop \(from.otherRelations[name]!) \(name)"
            add(.notGenerated("\(what) by hand; greyoak does not generate foreign tables"),
                in: .otherRelationNotes)
        }
    }

    private mutating func dropTables() {
        for name in droppedTables {
            for column in Self.defaultsInACycle(from.tables[name]!, from) {
                add(.dropDefault(table: name, column: column.name), in: .dropDependentObjects)
                defaultsApart.insert("default \(name).\(column.name)")
            }
        }
        for name in droppedTables { add(.dropTable(name, renameCandidates: newTables), in: .dropTables) }
    }

    /// Partitions: made with `PARTITION OF` after their parent, dropped with the tables;
    /// a partition whose bounds or parent change, and a table that turns partitioned or back,
    /// are left to a person (their rows must move).
    private mutating func changePartitions(_ partitions: Set<String>) {
        for name in partitions.sorted() {
            let old = from.tables[name], new = to.tables[name]
            if let old, new == nil, old.partitionOf != nil {
                add(.dropTable(name, renameCandidates: []), in: .dropTables)
            } else if let old, let new, old.partitionOf != new.partitionOf || old.partitionBound != new.partitionBound {
                guard let from = old.partitionOf, let to = new.partitionOf, let bound = new.partitionBound else {
                    add(.notGenerated("table \(name) turns from \(old.partitionOf.map { "a partition of \($0)" } ?? "a plain table") into \(new.partitionOf.map { "a partition of \($0)" } ?? "a plain table"); write its DETACH PARTITION or ATTACH PARTITION (and any change to its columns) by hand"),
                        in: .partitionNotes)
                    continue
                }
                // Rows stay where they are: the partition leaves its parent and joins the new
                // one (or the same) with its new bounds, which ATTACH checks.
                add(.detachPartition(name, parent: from), in: .partitionNotes)
                add(.attachPartition(name, parent: to, bound: bound), in: .addConstraints)
                // The indexes it had for the old parent stay behind as its own: dropped unless
                // the new parent has them too (ATTACH makes those the new parent lacks).
                for index in old.indexes.keys.sorted() where new.indexes[index] == nil && from != to {
                    add(.dropIndex(index), in: .dropIndexes)
                }
            }
        }
        for name in keptTables where from.tables[name]?.partitionKey != to.tables[name]?.partitionKey {
            add(.notGenerated("table \(name) changes its partitioning from \(from.tables[name]?.partitionKey ?? "none") to \(to.tables[name]?.partitionKey ?? "none"), which PostgreSQL cannot ALTER: its rows must move into a new table. By hand: make the new table (with its partitions) under another name, INSERT INTO it SELECT * FROM \(name), drop \(name) (and what depends on it) and rename the new one, then make again what depended on it; or keep \(name) and ATTACH it as a partition of the new table"),
                in: .partitionNotes)
        }
        for name in keptTables {
            let (a, b) = (from.tables[name]?.inherits ?? [], to.tables[name]?.inherits ?? [])
            for parent in a where !b.contains(parent) { add(.inherit(table: name, parent: parent, false), in: .dropColumns) }
            for parent in b where !a.contains(parent) { add(.inherit(table: name, parent: parent, true), in: .addConstraints) }
        }
    }

    /// Columns of kept tables that `to` lacks, or whose generation expression changes
    /// (a stored generated column cannot be altered in place).
    func replacedColumns(_ name: String) -> [SchemaCatalog.Column] {
        let (a, b) = (from.tables[name]!, to.tables[name]!)
        return a.columns.filter { column in
            guard let other = b.column(column.name) else { return true }
            return other.generatedExpression != column.generatedExpression
        }
    }

    private mutating func dropColumns() {
        for name in keptTables {
            let added = to.tables[name]!.columns.filter { from.tables[name]!.column($0.name) == nil }.map(\.name)
            for column in replacedColumns(name) {
                // Tables that inherit it and keep the column keep their copy.
                let only = to.tables.values.contains { $0.inherits.contains(name) && $0.column(column.name) != nil }
                add(.dropColumn(table: name, column: column.name, renameCandidates: added, only: only), in: .dropColumns)
            }
        }
    }

    /// Before sequences are made: an identity's own sequence may hold the name a new serial
    /// sequence takes.
    private mutating func dropIdentities() {
        for name in keptTables {
            for old in from.tables[name]!.columns where old.identity != nil {
                if let new = to.tables[name]!.column(old.name), new.identity == nil, new.generatedExpression == old.generatedExpression {
                    add(.dropIdentity(table: name, column: old.name), in: .dropIdentities)
                }
            }
        }
    }

    // MARK: - Constraints and indexes

    private mutating func addConstraints() {
        for name in keptTables {
            for constraint in changedConstraints(name, to.tables[name]!, from.tables[name]!, order: Self.addOrder) {
                add(.addConstraint(table: name, constraint, existingTable: true), in: .addConstraints)
            }
        }
    }

    private mutating func addForeignKeys() {
        for name in to.tables.keys.sorted() where to.tables[name]!.partitionOf == nil {
            let existing = from.tables[name]
            for key in to.tables[name]!.constraints.values.filter({ $0.kind == .foreignKey }).sorted(by: { $0.name < $1.name })
            where existing?.constraints[key.name] != key || droppedForeignKeys.contains("\(name).\(key.name)") {
                add(.addConstraint(table: name, key, existingTable: existing != nil), in: .addForeignKeys)
            }
        }
    }

    private mutating func createIndexes() {
        for name in to.tables.keys.sorted() where to.tables[name]!.partitionOf == nil {
            let existing = from.tables[name]
            for index in to.tables[name]!.indexes.values.filter({ !$0.backsConstraint && (existing?.indexes[$0.name] != $0 || mustRemake($0.definition, on: name)) })
                .sorted(by: { $0.name < $1.name }) {
                add(.createIndex(table: name, index, existingTable: existing != nil), in: .createIndexes)
            }
        }
    }

    /// Whether an index or constraint of `table` that stays the same must still be dropped
    /// first and made again: it names a value of an enum that is made anew (the columns
    /// cannot convert under it), or a generated column that is dropped and added again
    /// (which would drop it silently).
    func mustRemake(_ definition: String, on table: String) -> Bool {
        if enumsToRebuild.contains(where: { definition.contains("::\(q($0))") }) { return true }
        guard keptTables.contains(table), let kept = to.tables[table] else { return false }
        let words = Set(definition.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "\"") }).map(String.init))
        return replacedColumns(table).contains { kept.column($0.name) != nil && words.contains(q($0.name)) }
    }
}
