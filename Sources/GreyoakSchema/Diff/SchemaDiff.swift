import Foundation

/// The statements that turn the schema `from` into the schema `to`.
///
/// Ordered by dependency: first what must go before anything else can change (foreign keys,
/// then other constraints and indexes, then tables and columns), then types, sequences,
/// tables, columns, constraints, foreign keys and indexes, and last the types and sequences
/// nothing uses any more. A downgrade is the same computation the other way round.
///
/// Renames are never guessed: a renamed table or column reads as a drop and an add, and a
/// comment says so. Statements that can lose data carry ``SchemaChange/destructive``.
public struct SchemaDiff {
    public let from: SchemaCatalog
    public let to: SchemaCatalog
    public private(set) var changes: [SchemaChange] = []

    private let keptTables: [String], newTables: [String], droppedTables: [String]
    /// Tables whose column types or keys change: foreign keys from and to them are dropped
    /// first and added again after, since PostgreSQL refuses to change what they rely on.
    private var shakenTables: Set<String> = []
    private var droppedForeignKeys: Set<String> = []
    /// `table.column` whose default an enum rebuild already set.
    private var defaultsSet: Set<String> = []
    private var rebuiltEnums: [String] = []
    private var sequencesDropped: Set<String> = []
    /// Enums that are made anew (``rebuildEnum(_:old:new:)``) rather than given new values.
    private var enumsToRebuild: Set<String> = []
    /// Views dropped first and made last: new or changed ones, and those that read a table
    /// whose columns change (PostgreSQL refuses to change a column a view reads).
    private var viewsToDrop: Set<String> = [], viewsToCreate: Set<String> = []

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
        viewsToDrop = dropping
        viewsToCreate = Set(to.views.keys.filter { from.views[$0] == nil || dropping.contains($0) })

        dropViews()
        for name in partitions.sorted() where from.tables[name] != to.tables[name] {
            add(nil, ["NOT GENERATED: partition \(name) differs; write its CREATE TABLE … PARTITION OF, ATTACH or DETACH by hand"])
        }
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
        createTables()
        changeColumns()
        addConstraints()
        addForeignKeys()
        setSequenceOwners()
        createIndexes()
        createViews()
        dropUnusedTypesAndSequences()
    }

    private func q(_ name: String) -> String { (to.keywords.isEmpty ? from : to).quote(name) }
    private mutating func add(_ sql: String?, _ comments: [String] = [], destructive: String? = nil) {
        changes.append(SchemaChange(sql, comments: comments, destructive: destructive))
    }

    // MARK: - What goes first

    private mutating func dropForeignKeys() {
        for name in from.tables.keys.sorted() where from.tables[name]!.partitionOf == nil {
            let table = from.tables[name]!
            for key in table.constraints.values.filter({ $0.kind == .foreignKey }).sorted(by: { $0.name < $1.name }) {
                let same = to.tables[name]?.constraints[key.name] == key
                let shaken = shakenTables.contains(name) || shakenTables.contains(key.referencedTable ?? "")
                guard !same || shaken else { continue }
                if same { droppedForeignKeys.insert("\(name).\(key.name)") }
                add("ALTER TABLE \(q(name)) DROP CONSTRAINT \(q(key.name))", same ? ["dropped to let the tables it joins change; added again below"] : [])
            }
        }
    }

    private mutating func dropConstraints() {
        let order: [SchemaCatalog.Constraint.Kind] = [.check, .exclusion, .trigger, .unique, .primaryKey]
        for name in keptTables {
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            let gone = a.constraints.values.filter { $0.kind != .foreignKey && (b.constraints[$0.name] != $0 || mustRemake($0.definition, on: name)) }
                .sorted { (order.firstIndex(of: $0.kind)!, $0.name) < (order.firstIndex(of: $1.kind)!, $1.name) }
            for constraint in gone { add("ALTER TABLE \(q(name)) DROP CONSTRAINT \(q(constraint.name))") }
        }
    }

    private mutating func dropIndexes() {
        for name in keptTables {
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            for index in a.indexes.values.filter({ !$0.backsConstraint && (b.indexes[$0.name] != $0 || mustRemake($0.definition, on: name)) })
                .sorted(by: { $0.name < $1.name }) {
                add("DROP INDEX \(q(index.name))")
            }
        }
    }

    /// Dependents first.
    private mutating func dropViews() {
        for name in Self.dependenciesFirst(viewsToDrop, from).reversed() { add("DROP VIEW \(q(name))") }
    }

    /// Dependencies first.
    private mutating func createViews() {
        for name in Self.dependenciesFirst(viewsToCreate, to) {
            var query = to.views[name]!.definition.trimmingCharacters(in: .whitespacesAndNewlines)
            if query.hasSuffix(";") { query.removeLast() }
            add("CREATE VIEW \(q(name)) AS\n\(query)")
        }
    }

    /// `names` ordered so that a view comes after the views it reads (PostgreSQL allows no cycle).
    private static func dependenciesFirst(_ names: Set<String>, _ catalog: SchemaCatalog) -> [String] {
        var ordered: [String] = [], placed: Set<String> = []
        var pending = names.sorted()
        while !pending.isEmpty {
            let ready = pending.filter { catalog.views[$0]!.dependsOn.subtracting(placed).isDisjoint(with: names) }
            let next = ready.isEmpty ? pending : ready  // unreachable without a cycle; never loop forever
            ordered += next
            placed.formUnion(next)
            pending.removeAll { placed.contains($0) }
        }
        return ordered
    }

    private mutating func noteOtherRelations() {
        for name in Set(from.otherRelations.keys).union(to.otherRelations.keys).sorted()
        where from.otherRelations[name] != to.otherRelations[name] && (from.otherRelations[name] ?? to.otherRelations[name]) != "view" {
            let what = to.otherRelations[name].map { "create \($0) \(name)" } ?? "drop \(from.otherRelations[name]!) \(name)"
            add(nil, ["NOT GENERATED: \(what) by hand; greyoak generates tables, views, columns, types, sequences, constraints and indexes only"])
        }
    }

    private mutating func dropTables() {
        for name in droppedTables {
            let hint = newTables.isEmpty ? [] : [
                "greyoak never guesses renames: if \(name) became \(newTables.joined(separator: " or ")), write ALTER TABLE \(q(name)) RENAME TO … instead of this DROP and the CREATE below, to keep its rows",
            ]
            add("DROP TABLE \(q(name))", hint, destructive: "drops table \(name) and every row in it")
        }
    }

    /// Columns of kept tables that `to` lacks, or whose generation expression changes
    /// (a stored generated column cannot be altered in place).
    private func replacedColumns(_ name: String) -> [SchemaCatalog.Column] {
        let (a, b) = (from.tables[name]!, to.tables[name]!)
        return a.columns.filter { column in
            guard let other = b.column(column.name) else { return true }
            return other.generatedExpression != column.generatedExpression
        }
    }

    private mutating func dropColumns() {
        for name in keptTables {
            let gone = replacedColumns(name)
            let added = to.tables[name]!.columns.filter { from.tables[name]!.column($0.name) == nil }.map(\.name)
            for column in gone {
                let hint = added.isEmpty ? [] : [
                    "greyoak never guesses renames: if \(column.name) became \(added.joined(separator: " or ")), write ALTER TABLE \(q(name)) RENAME COLUMN \(q(column.name)) TO … instead of this DROP and the ADD below, to keep its data",
                ]
                add("ALTER TABLE \(q(name)) DROP COLUMN \(q(column.name))", hint, destructive: "drops column \(name).\(column.name) and its data")
            }
        }
    }

    /// Before sequences are made: an identity's own sequence may hold the name a new serial
    /// sequence takes.
    private mutating func dropIdentities() {
        for name in keptTables {
            for old in from.tables[name]!.columns where old.identity != nil {
                if let new = to.tables[name]!.column(old.name), new.identity == nil, new.generatedExpression == old.generatedExpression {
                    add("ALTER TABLE \(q(name)) ALTER COLUMN \(q(old.name)) DROP IDENTITY")
                }
            }
        }
    }

    // MARK: - Types, sequences, tables

    private mutating func changeEnums() {
        for name in from.enums.keys.sorted() {
            guard let old = from.enums[name], let new = to.enums[name], old != new else { continue }
            if !enumsToRebuild.contains(name) {
                for (position, label) in new.enumerated() where !old.contains(label) {
                    // In order, so the label before is there already; the first goes before the first old one.
                    let place = position > 0 ? " AFTER \(sqlLiteral(new[position - 1]))"
                        : old.first.map { " BEFORE \(sqlLiteral($0))" } ?? ""
                    add("ALTER TYPE \(q(name)) ADD VALUE \(sqlLiteral(label))\(place)")
                }
            } else {
                rebuildEnum(name, old: old, new: new)
            }
        }
        for name in to.enums.keys.sorted() where from.enums[name] == nil {
            add("CREATE TYPE \(q(name)) AS ENUM (\(to.enums[name]!.map(sqlLiteral).joined(separator: ", ")))")
        }
    }

    /// Removing or reordering enum values: PostgreSQL cannot, so the old type is renamed, the
    /// new one created, the columns converted through text, and the old type dropped at the end.
    private mutating func rebuildEnum(_ name: String, old: [String], new: [String]) {
        let removed = old.filter { !new.contains($0) }
        let oldName = "\(name)__greyoak_old"
        add("ALTER TYPE \(q(name)) RENAME TO \(q(oldName))",
            [removed.isEmpty && Self.isSubsequence(old, of: new)
                ? "enum \(name) gains values that this migration uses, which ADD VALUE does not allow in one transaction: rename it, create it anew, convert its columns through text, drop the old one"
                : "enum \(name) loses or reorders values, which ALTER TYPE cannot do: rename it, create it anew, convert its columns through text, drop the old one"],
            destructive: removed.isEmpty ? nil : "values \(removed.map(sqlLiteral).joined(separator: ", ")) are removed: converting a row that holds one fails")
        add("CREATE TYPE \(q(name)) AS ENUM (\(new.map(sqlLiteral).joined(separator: ", ")))")
        for table in keptTables {
            for column in from.tables[table]!.columns where [q(name), q(name) + "[]"].contains(column.type) {
                guard let target = to.tables[table]!.column(column.name), target.type == column.type,
                      target.generatedExpression == column.generatedExpression else { continue }
                let alter = "ALTER TABLE \(q(table)) ALTER COLUMN \(q(column.name))"
                let array = column.type.hasSuffix("[]") ? "[]" : ""
                if column.defaultExpression != nil { add("\(alter) DROP DEFAULT") }
                add("\(alter) TYPE \(column.type) USING \(q(column.name))::text\(array)::\(column.type)")
                if let value = target.defaultExpression { add("\(alter) SET DEFAULT \(value)") }
                defaultsSet.insert("\(table).\(column.name)")
            }
        }
        rebuiltEnums.append(oldName)
    }

    private mutating func changeDomains() {
        for name in to.domains.keys.sorted() {
            let new = to.domains[name]!
            guard let old = from.domains[name] else {
                var sql = "CREATE DOMAIN \(q(name)) AS \(new.baseType)"
                if let value = new.defaultExpression { sql += " DEFAULT \(value)" }
                if new.notNull { sql += " NOT NULL" }
                for (check, definition) in new.checks.sorted(by: { $0.key < $1.key }) { sql += " CONSTRAINT \(q(check)) \(definition)" }
                add(sql)
                continue
            }
            guard old != new else { continue }
            let alter = "ALTER DOMAIN \(q(name))"
            if old.baseType != new.baseType {
                add(nil, ["NOT GENERATED: domain \(name) changes its type from \(old.baseType) to \(new.baseType); write that by hand"])
            }
            for (check, definition) in old.checks.sorted(by: { $0.key < $1.key }) where new.checks[check] != definition {
                add("\(alter) DROP CONSTRAINT \(q(check))")
            }
            if old.defaultExpression != new.defaultExpression {
                add(new.defaultExpression.map { "\(alter) SET DEFAULT \($0)" } ?? "\(alter) DROP DEFAULT")
            }
            if old.notNull != new.notNull { add("\(alter) \(new.notNull ? "SET" : "DROP") NOT NULL") }
            for (check, definition) in new.checks.sorted(by: { $0.key < $1.key }) where old.checks[check] != definition {
                add("\(alter) ADD CONSTRAINT \(q(check)) \(definition)")
            }
        }
    }

    private func sequenceOptions(_ s: SchemaCatalog.Sequence) -> String {
        "AS \(s.type) INCREMENT BY \(s.increment) MINVALUE \(s.minimum) MAXVALUE \(s.maximum) START WITH \(s.start) CACHE \(s.cache) \(s.cycle ? "CYCLE" : "NO CYCLE")"
    }

    private mutating func createSequences() {
        for name in to.sequences.keys.sorted() {
            let new = to.sequences[name]!
            if let old = from.sequences[name] {
                var a = old, b = new
                (a.ownedBy, b.ownedBy) = (nil, nil)
                if a != b { add("ALTER SEQUENCE \(q(name)) \(sequenceOptions(new))") }
            } else {
                add("CREATE SEQUENCE \(q(name)) \(sequenceOptions(new))")
            }
        }
    }

    private func columnDefinition(_ column: SchemaCatalog.Column) -> String {
        var text = "\(q(column.name)) \(column.type)"
        if let expression = column.generatedExpression { text += " GENERATED ALWAYS AS (\(expression)) STORED" }
        if let value = column.defaultExpression { text += " DEFAULT \(value)" }
        if column.notNull { text += " NOT NULL" }
        if let identity = column.identity { text += identity == "a" ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY" }
        return text
    }

    private mutating func createTables() {
        for name in newTables {
            let table = to.tables[name]!
            var lines = table.columns.map(columnDefinition)
            lines += table.constraints.values.filter { $0.kind != .foreignKey }.sorted { $0.name < $1.name }
                .map { "CONSTRAINT \(q($0.name)) \($0.definition)" }
            let partition = table.partitionKey.map { " PARTITION BY \($0)" } ?? ""
            add("CREATE TABLE \(q(name)) (\n    \(lines.joined(separator: ",\n    "))\n)\(partition)")
        }
    }

    private mutating func changeColumns() {
        for name in keptTables {
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            let replaced = Set(replacedColumns(name).map(\.name))
            for column in b.columns where a.column(column.name) == nil || replaced.contains(column.name) {
                let warning = column.notNull && column.defaultExpression == nil && column.identity == nil && column.generatedExpression == nil
                    ? ["NOT NULL without a default fails if \(name) has rows: add a default, or add it nullable, backfill, then SET NOT NULL"] : []
                add("ALTER TABLE \(q(name)) ADD COLUMN \(columnDefinition(column))", warning)
            }
            for old in a.columns where !replaced.contains(old.name) {
                changeColumn(name, old, b.column(old.name)!)
            }
        }
    }

    private mutating func changeColumn(_ table: String, _ old: SchemaCatalog.Column, _ new: SchemaCatalog.Column) {
        let alter = "ALTER TABLE \(q(table)) ALTER COLUMN \(q(old.name))"
        var defaultDropped = false
        if old.type != new.type {
            if old.defaultExpression != nil, !defaultsSet.contains("\(table).\(old.name)") {
                add("\(alter) DROP DEFAULT")
                defaultDropped = true
            }
            let cast = to.enums[Self.enumName(new.type)] != nil ? "::text\(new.type.hasSuffix("[]") ? "[]" : "")::\(new.type)" : "::\(new.type)"
            add("\(alter) TYPE \(new.type) USING \(q(old.name))\(cast)",
                destructive: TypeWidening.isWidening(from: old.type, to: new.type) ? nil
                    : "\(table).\(old.name) changes from \(old.type) to \(new.type), which can fail or lose data")
        }
        if !defaultsSet.contains("\(table).\(old.name)"), old.defaultExpression != new.defaultExpression || defaultDropped {
            if let value = new.defaultExpression {
                add("\(alter) SET DEFAULT \(value)")
            } else if !defaultDropped {
                add("\(alter) DROP DEFAULT")
            }
        }
        if old.notNull != new.notNull {
            add("\(alter) \(new.notNull ? "SET" : "DROP") NOT NULL",
                new.notNull ? ["SET NOT NULL fails if a row holds NULL, and scans \(table) under an ACCESS EXCLUSIVE lock"] : [])
        }
        if let identity = new.identity, identity != old.identity {
            let kind = identity == "a" ? "ALWAYS" : "BY DEFAULT"
            if old.identity == nil {
                // The serial sequence goes first, so that pg_get_serial_sequence names the identity's.
                for sequence in from.sequences.values.sorted(by: { $0.name < $1.name })
                where sequence.ownedBy?.table == table && sequence.ownedBy?.column == old.name {
                    if to.sequences[sequence.name] == nil {
                        add("DROP SEQUENCE \(q(sequence.name))")
                        sequencesDropped.insert(sequence.name)
                    } else {
                        add("ALTER SEQUENCE \(q(sequence.name)) OWNED BY NONE")
                    }
                }
                add("\(alter) ADD GENERATED \(kind) AS IDENTITY")
                // A new identity counts from 1; the rows the table holds already may not.
                add("SELECT setval(pg_get_serial_sequence(\(sqlLiteral(q(table))), \(sqlLiteral(old.name))), coalesce(max(\(q(old.name))), 0) + 1, false) FROM \(q(table))",
                    ["the identity continues after the values the rows hold"])
            } else {
                add("\(alter) SET GENERATED \(kind)")
            }
        }
    }

    // MARK: - Constraints and indexes

    private mutating func addConstraints() {
        for name in keptTables {
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            let order: [SchemaCatalog.Constraint.Kind] = [.primaryKey, .unique, .exclusion, .check, .trigger]
            let new = b.constraints.values.filter { $0.kind != .foreignKey && (a.constraints[$0.name] != $0 || mustRemake($0.definition, on: name)) }
                .sorted { (order.firstIndex(of: $0.kind)!, $0.name) < (order.firstIndex(of: $1.kind)!, $1.name) }
            for constraint in new { addConstraint(name, constraint, existingTable: true) }
        }
    }

    private mutating func addForeignKeys() {
        for name in to.tables.keys.sorted() where to.tables[name]!.partitionOf == nil {
            let existing = from.tables[name]
            for key in to.tables[name]!.constraints.values.filter({ $0.kind == .foreignKey }).sorted(by: { $0.name < $1.name })
            where existing?.constraints[key.name] != key || droppedForeignKeys.contains("\(name).\(key.name)") {
                addConstraint(name, key, existingTable: existing != nil)
            }
        }
    }

    /// On a table that exists already, CHECK and FOREIGN KEY go in as NOT VALID, then a
    /// VALIDATE that scans the rows under a lock that lets writes go on.
    private mutating func addConstraint(_ table: String, _ constraint: SchemaCatalog.Constraint, existingTable: Bool) {
        let alter = "ALTER TABLE \(q(table))"
        let notValid = constraint.definition.hasSuffix(" NOT VALID")
        if existingTable, !notValid, [.check, .foreignKey].contains(constraint.kind) {
            add("\(alter) ADD CONSTRAINT \(q(constraint.name)) \(constraint.definition) NOT VALID",
                ["NOT VALID first: checks new rows only, with a short lock; VALIDATE then checks the old rows without blocking writes"])
            add("\(alter) VALIDATE CONSTRAINT \(q(constraint.name))")
        } else {
            let note = existingTable && [.primaryKey, .unique].contains(constraint.kind)
                ? ["builds a unique index while blocking writes: on a large table, CREATE UNIQUE INDEX CONCURRENTLY in a separate non-transactional revision, then ADD CONSTRAINT … USING INDEX"] : []
            add("\(alter) ADD CONSTRAINT \(q(constraint.name)) \(constraint.definition)", note)
        }
    }

    private mutating func setSequenceOwners() {
        for name in to.sequences.keys.sorted() {
            let new = to.sequences[name]!, old = from.sequences[name]
            guard old == nil || old!.ownedBy?.table != new.ownedBy?.table || old!.ownedBy?.column != new.ownedBy?.column else { continue }
            if let owner = new.ownedBy {
                add("ALTER SEQUENCE \(q(name)) OWNED BY \(q(owner.table)).\(q(owner.column))")
                if old == nil, from.tables[owner.table]?.column(owner.column) != nil {
                    add("SELECT setval(\(sqlLiteral(q(name))), coalesce(max(\(q(owner.column))), 0) + 1, false) FROM \(q(owner.table))",
                        ["the new sequence continues after the values the rows hold"])
                }
            } else if old != nil {
                add("ALTER SEQUENCE \(q(name)) OWNED BY NONE")
            }
        }
    }

    private mutating func createIndexes() {
        for name in to.tables.keys.sorted() where to.tables[name]!.partitionOf == nil {
            let existing = from.tables[name]
            for index in to.tables[name]!.indexes.values.filter({ !$0.backsConstraint && (existing?.indexes[$0.name] != $0 || mustRemake($0.definition, on: name)) })
                .sorted(by: { $0.name < $1.name }) {
                let note = existing == nil ? [] : [
                    "blocks writes to \(name) while it builds: on a large table, move it to a separate revision marked `-- Transactional: no` as CREATE INDEX CONCURRENTLY",
                ]
                // `ON ONLY` is how the server prints a partitioned table's index; made without
                // it, the index also reaches the partitions.
                add(index.definition.replacingOccurrences(of: " ON ONLY ", with: " ON "), note)
            }
        }
    }

    // MARK: - What goes last

    private mutating func dropUnusedTypesAndSequences() {
        let droppedColumns = Set(keptTables.flatMap { table in replacedColumns(table).map { "\(table).\($0.name)" } })
        for name in from.sequences.keys.sorted() where to.sequences[name] == nil && !sequencesDropped.contains(name) {
            // Dropping a table or column drops the sequence it owns.
            if let owner = from.sequences[name]!.ownedBy,
               droppedTables.contains(owner.table) || droppedColumns.contains("\(owner.table).\(owner.column)") { continue }
            add("DROP SEQUENCE \(q(name))")
        }
        for name in rebuiltEnums { add("DROP TYPE \(q(name))") }
        for name in from.enums.keys.sorted() where to.enums[name] == nil { add("DROP TYPE \(q(name))") }
        for name in from.domains.keys.sorted() where to.domains[name] == nil { add("DROP DOMAIN \(q(name))") }
    }

    /// Whether an index or constraint of `table` that stays the same must still be dropped
    /// first and made again: it names a value of an enum that is made anew (the columns
    /// cannot convert under it), or a generated column that is dropped and added again
    /// (which would drop it silently).
    private func mustRemake(_ definition: String, on table: String) -> Bool {
        if enumsToRebuild.contains(where: { definition.contains("::\(q($0))") }) { return true }
        guard keptTables.contains(table), let kept = to.tables[table] else { return false }
        let words = Set(definition.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "\"") }).map(String.init))
        return replacedColumns(table).contains { kept.column($0.name) != nil && words.contains(q($0.name)) }
    }

    /// Whether `catalog`'s expressions use one of `labels` of enum `name`. A value that
    /// `ALTER TYPE … ADD VALUE` adds cannot be used in the transaction that adds it, so such an
    /// enum is made anew instead.
    private static func uses(_ labels: [String], of name: String, in catalog: SchemaCatalog) -> Bool {
        let needles = labels.map { "\(sqlLiteral($0))::\(catalog.quote(name))" }
        let texts = catalog.tables.values.flatMap { table in
            table.columns.compactMap(\.defaultExpression) + table.constraints.values.map(\.definition) + table.indexes.values.map(\.definition)
        } + catalog.domains.values.compactMap(\.defaultExpression) + catalog.domains.values.flatMap(\.checks.values)
        return texts.contains { text in needles.contains { text.contains($0) } }
    }

    /// The type's name as the catalog keys it: `"Band"[]` -> `Band`.
    private static func enumName(_ type: String) -> String {
        var name = type.hasSuffix("[]") ? String(type.dropLast(2)) : type
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        }
        return name
    }

    private static func isSubsequence(_ small: [String], of large: [String]) -> Bool {
        var rest = large[...]
        for label in small {
            guard let found = rest.firstIndex(of: label) else { return false }
            rest = rest[(found + 1)...]
        }
        return true
    }
}
