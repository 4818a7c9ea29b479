/// Types, sequences and columns of kept tables.
extension SchemaDiff {
    mutating func changeEnums() {
        for name in from.enums.keys.sorted() {
            guard let old = from.enums[name], let new = to.enums[name], old != new else { continue }
            if !enumsToRebuild.contains(name) {
                for (position, label) in new.enumerated() where !old.contains(label) {
                    // In order, so the label before is there already; the first goes before the first old one.
                    let place: SchemaOperation.Placement = position > 0 ? .after(new[position - 1]) : old.first.map { .before($0) } ?? .end
                    add(.addEnumValue(type: name, label: label, place), in: .enums)
                }
            } else {
                rebuildEnum(name, old: old, new: new)
            }
        }
        for name in to.enums.keys.sorted() where from.enums[name] == nil {
            add(.createEnum(name, labels: to.enums[name]!), in: .enums)
        }
    }

    /// Removing or reordering enum values: PostgreSQL cannot, so the old type is renamed, the
    /// new one created, the columns converted through text, and the old type dropped at the end.
    private mutating func rebuildEnum(_ name: String, old: [String], new: [String]) {
        let removed = old.filter { !new.contains($0) }
        let oldName = "\(name)__greyoak_old"
        add(.enumSetAside(name, aside: oldName, gainsUsedValues: removed.isEmpty && Self.isSubsequence(old, of: new), removed: removed), in: .enums)
        add(.createEnum(name, labels: new), in: .enums)
        for table in keptTables {
            for column in from.tables[table]!.columns where [q(name), q(name) + "[]"].contains(column.type) {
                guard let target = to.tables[table]!.column(column.name), target.type == column.type,
                      target.generatedExpression == column.generatedExpression else { continue }
                if column.defaultExpression != nil { add(.dropDefault(table: table, column: column.name), in: .enums) }
                add(.convertEnumColumn(table: table, column: column.name, type: column.type), in: .enums)
                if let value = target.defaultExpression { add(.setDefault(table: table, column: column.name, value), in: .enums) }
                defaultsSet.insert("\(table).\(column.name)")
            }
        }
        rebuiltEnums.append(oldName)
    }

    mutating func changeDomains() {
        for name in to.domains.keys.sorted() {
            let new = to.domains[name]!
            guard let old = from.domains[name] else {
                add(.createDomain(new), in: .domains)
                continue
            }
            guard old != new else { continue }
            if old.baseType != new.baseType {
                add(.notGenerated("domain \(name) changes its type from \(old.baseType) to \(new.baseType); write that by hand"), in: .domains)
            }
            for (check, definition) in old.checks.sorted(by: { $0.key < $1.key }) where new.checks[check] != definition {
                add(.dropDomainConstraint(name, name: check), in: .domains)
            }
            if old.defaultExpression != new.defaultExpression { add(.setDomainDefault(name, new.defaultExpression), in: .domains) }
            if old.notNull != new.notNull { add(.setDomainNotNull(name, new.notNull), in: .domains) }
            for (check, definition) in new.checks.sorted(by: { $0.key < $1.key }) where old.checks[check] != definition {
                add(.addDomainConstraint(name, name: check, definition: definition), in: .domains)
            }
        }
    }

    mutating func createSequences() {
        for name in to.sequences.keys.sorted() {
            let new = to.sequences[name]!
            if let old = from.sequences[name] {
                var a = old, b = new
                (a.ownedBy, b.ownedBy) = (nil, nil)
                if a != b { add(.alterSequence(new), in: .sequences) }
            } else {
                add(.createSequence(new), in: .sequences)
            }
        }
    }

    mutating func changeColumns() {
        for name in keptTables {
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            let replaced = Set(replacedColumns(name).map(\.name))
            for column in b.columns where a.column(column.name) == nil || replaced.contains(column.name) {
                // A column a parent gains reaches its inheriting tables with it.
                let fromParent = b.inherits.contains { parent in
                    from.tables[parent] != nil && from.tables[parent]?.column(column.name) == nil && to.tables[parent]?.column(column.name) != nil
                }
                guard !fromParent else { continue }
                add(.addColumn(table: name, column), in: .columns)
            }
            for old in a.columns where !replaced.contains(old.name) {
                changeColumn(name, old, b.column(old.name)!)
            }
        }
    }

    private mutating func changeColumn(_ table: String, _ old: SchemaCatalog.Column, _ new: SchemaCatalog.Column) {
        var defaultDropped = false
        if old.type != new.type {
            if old.defaultExpression != nil, !defaultsSet.contains("\(table).\(old.name)") {
                add(.dropDefault(table: table, column: old.name), in: .columns)
                defaultDropped = true
            }
            add(.alterColumnType(table: table, column: old.name, from: old.type, to: new.type,
                                 throughText: to.enums[Self.enumName(new.type)] != nil), in: .columns)
        }
        if !defaultsSet.contains("\(table).\(old.name)"), old.defaultExpression != new.defaultExpression || defaultDropped {
            if let value = new.defaultExpression {
                add(.setDefault(table: table, column: old.name, value), in: .columns)
            } else if !defaultDropped {
                add(.dropDefault(table: table, column: old.name), in: .columns)
            }
        }
        if old.notNull != new.notNull { add(.setNotNull(table: table, column: old.name, new.notNull), in: .columns) }
        if let identity = new.identity, identity != old.identity {
            if old.identity == nil {
                // The serial sequence goes first, so that pg_get_serial_sequence names the identity's.
                for sequence in from.sequences.values.sorted(by: { $0.name < $1.name })
                where sequence.ownedBy?.table == table && sequence.ownedBy?.column == old.name {
                    if to.sequences[sequence.name] == nil {
                        add(.dropSequence(sequence.name), in: .columns)
                        sequencesDropped.insert(sequence.name)
                    } else {
                        add(.sequenceOwnedByNone(sequence.name), in: .columns)
                    }
                }
                add(.addIdentity(table: table, column: old.name, always: identity == "a"), in: .columns)
                add(.continueIdentity(table: table, column: old.name), in: .columns)
            } else {
                add(.setIdentityKind(table: table, column: old.name, always: identity == "a"), in: .columns)
            }
        }
    }

    mutating func setSequenceOwners() {
        for name in to.sequences.keys.sorted() {
            let new = to.sequences[name]!, old = from.sequences[name]
            guard old == nil || old!.ownedBy?.table != new.ownedBy?.table || old!.ownedBy?.column != new.ownedBy?.column else { continue }
            if let owner = new.ownedBy {
                add(.sequenceOwnedBy(name, table: owner.table, column: owner.column), in: .sequenceOwners)
                if old == nil, from.tables[owner.table]?.column(owner.column) != nil {
                    add(.continueSequence(name, table: owner.table, column: owner.column), in: .sequenceOwners)
                }
            } else if old != nil {
                add(.sequenceOwnedByNone(name), in: .sequenceOwners)
            }
        }
    }

    // MARK: - What goes last

    mutating func dropUnusedTypesAndSequences() {
        let droppedColumns = Set(keptTables.flatMap { table in replacedColumns(table).map { "\(table).\($0.name)" } })
        for name in from.sequences.keys.sorted() where to.sequences[name] == nil && !sequencesDropped.contains(name) {
            // Dropping a table or column drops the sequence it owns.
            if let owner = from.sequences[name]!.ownedBy,
               droppedTables.contains(owner.table) || droppedColumns.contains("\(owner.table).\(owner.column)") { continue }
            add(.dropSequence(name), in: .dropUnused)
        }
        for name in rebuiltEnums { add(.dropType(name), in: .dropUnused) }
        for name in from.enums.keys.sorted() where to.enums[name] == nil { add(.dropType(name), in: .dropUnused) }
        for name in from.domains.keys.sorted() where to.domains[name] == nil { add(.dropDomain(name), in: .dropUnused) }
    }

    /// Whether `catalog`'s expressions use one of `labels` of enum `name`. A value that
    /// `ALTER TYPE … ADD VALUE` adds cannot be used in the transaction that adds it, so such an
    /// enum is made anew instead.
    static func uses(_ labels: [String], of name: String, in catalog: SchemaCatalog) -> Bool {
        let needles = labels.map { "\(sqlLiteral($0))::\(catalog.quote(name))" }
        let texts = catalog.tables.values.flatMap { table in
            table.columns.compactMap(\.defaultExpression) + table.constraints.values.map(\.definition) + table.indexes.values.map(\.definition)
        } + catalog.domains.values.compactMap(\.defaultExpression) + catalog.domains.values.flatMap(\.checks.values)
        return texts.contains { text in needles.contains { text.contains($0) } }
    }

    /// The type's name as the catalog keys it: `"Band"[]` -> `Band`.
    static func enumName(_ type: String) -> String {
        var name = type.hasSuffix("[]") ? String(type.dropLast(2)) : type
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        }
        return name
    }

    static func isSubsequence(_ small: [String], of large: [String]) -> Bool {
        var rest = large[...]
        for label in small {
            guard let found = rest.firstIndex(of: label) else { return false }
            rest = rest[(found + 1)...]
        }
        return true
    }
}
