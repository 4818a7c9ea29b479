/// The order in which a migration's operations run.
///
/// Each operation is worked out in a ``Phase``; phases run in their declared order, and
/// within a phase operations keep the order they were worked out in, except views, which
/// follow their dependencies: dropped dependents first, created dependencies first.
enum DiffOrdering {
    /// First what must go before anything else can change (what hangs on relations: triggers,
    /// policies, grants, comments, materialized views; then views, foreign keys, other
    /// constraints and indexes, then tables and columns), then types, extensions, collations
    /// and functions, sequences, tables, columns, constraints, foreign keys and indexes, then
    /// views and what hangs on relations, and last the types, sequences, functions, collations
    /// and extensions nothing uses any more.
    enum Phase: Int, Comparable, CaseIterable {
        case dropDependentObjects, dropViews, partitionNotes, dropForeignKeys, dropConstraints, dropIndexes, otherRelationNotes
        case dropTables, dropColumns, dropIdentities
        case enums, domains, createEarlyObjects, sequences, createTables, columns
        case addConstraints, addForeignKeys, sequenceOwners, createIndexes, createViews, createLateObjects
        case dropUnused, dropLateObjects

        static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
    }

    /// `operations` in running order; `from` and `to` give the views' dependencies.
    static func order(_ operations: [(Phase, SchemaOperation)], from: SchemaCatalog, to: SchemaCatalog) -> [SchemaOperation] {
        var byPhase: [Phase: [SchemaOperation]] = [:]
        for (phase, operation) in operations { byPhase[phase, default: []].append(operation) }
        return Phase.allCases.flatMap { phase -> [SchemaOperation] in
            let list = byPhase[phase] ?? []
            switch phase {
            case .dropViews:
                let names = Set(list.compactMap { if case let .dropView(name) = $0 { name } else { nil } })
                return dependenciesFirst(names, from).reversed().map { .dropView($0) }
            case .createViews:
                let queries = Dictionary(list.compactMap { if case let .createView(name, query) = $0 { (name, query) } else { nil } },
                                         uniquingKeysWith: { a, _ in a })
                return dependenciesFirst(Set(queries.keys), to).map { .createView($0, query: queries[$0]!) }
            default:
                return list
            }
        }
    }

    /// `names` ordered so that a view comes after the views it reads (PostgreSQL allows no cycle).
    static func dependenciesFirst(_ names: Set<String>, _ catalog: SchemaCatalog) -> [String] {
        var ordered: [String] = [], placed: Set<String> = []
        var pending = names.sorted()
        while !pending.isEmpty {
            let ready = pending.filter { (catalog.views[$0]?.dependsOn ?? []).subtracting(placed).isDisjoint(with: names) }
            let next = ready.isEmpty ? pending : ready  // unreachable without a cycle; never loop forever
            ordered += next
            placed.formUnion(next)
            pending.removeAll { placed.contains($0) }
        }
        return ordered
    }
}
