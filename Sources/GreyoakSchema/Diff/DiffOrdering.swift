/// The order in which a migration's operations run: by the dependencies PostgreSQL records
/// (``SchemaCatalog/dependencies``), with the kind order (``Phase``) as the tiebreak.
///
/// - What is made comes after what it depends on in the catalog being built (`to`); what is
///   dropped (or changed) comes before what it depended on is dropped, in the catalog being
///   left (`from`); what is dropped comes before what is made under the same name.
/// - Otherwise operations run by phase, and within a phase in the order they were worked
///   out. An operation that something earlier needs is pulled forward to that phase, so a
///   table whose row type a function takes is made just before the function, not the
///   function after every table.
/// - A cycle (a function whose body PostgreSQL parses reads a table whose default calls it)
///   has no order that loads: the operations in it keep the kind order, and a
///   `-- NOT GENERATED:` note names the cycle, so that the migration is split by hand.
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

    /// `operations` in running order.
    static func order(_ operations: [(Phase, SchemaOperation)], from: SchemaCatalog, to: SchemaCatalog,
                      defaultsApart: Set<String> = []) -> [SchemaOperation] {
        let ops = operations.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        let touches = ops.map { OperationNodes($0.1, from: from, to: to, defaultsApart: defaultsApart) }
        var before = Array(repeating: Set<Int>(), count: ops.count)  // before[i]: what must run before i

        var providers: [String: [Int]] = [:], removers: [String: [Int]] = [:], modifiers: [String: [Int]] = [:]
        for (i, nodes) in touches.enumerated() {
            for node in nodes.provides { providers[node, default: []].append(i) }
            for node in nodes.removes { removers[node, default: []].append(i) }
            for node in nodes.modifies { modifiers[node, default: []].append(i) }
        }
        for list in providers.values { for (a, b) in zip(list, list.dropFirst()) { before[b].insert(a) } }
        for (node, list) in removers {
            for i in providers[node] ?? [] { before[i].formUnion(list) }
        }
        for (i, nodes) in touches.enumerated() {
            // Made after what it needs, where this migration makes that.
            for node in nodes.provides {
                for need in (to.dependencies[node] ?? []).union(nodes.needs) { before[i].formUnion((providers[need] ?? []).filter { $0 != i }) }
            }
            // Dropped after whatever depended on it is dropped or changed.
            // (What is dropped and made again counts by its drop: the new one may not need it.)
            for node in nodes.removes {
                for (dependent, needs) in from.dependencies where needs.contains(node) {
                    before[i].formUnion(((removers[dependent] ?? []) + (modifiers[dependent] ?? [])).filter { $0 != i })
                }
            }
        }
        // `SET LOCAL check_function_bodies = off` goes before every function.
        if let off = ops.firstIndex(where: { $0.1 == .checkFunctionBodiesOff }) {
            for (i, op) in ops.enumerated() {
                if case let .createObject(object, _) = op.1, [.function, .procedure].contains(object.kind) { before[i].insert(off) }
                if case let .alterObject(object) = op.1, [.function, .procedure].contains(object.kind) { before[i].insert(off) }
            }
        }
        return sorted(ops, before: before)
    }

    /// A topological sort that runs, of the operations whose predecessors have run, the one of
    /// the earliest phase (pulled forward to the earliest phase of what waits for it).
    private static func sorted(_ ops: [(Phase, SchemaOperation)], before: [Set<Int>]) -> [SchemaOperation] {
        var rank = ops.map(\.0.rawValue)
        var changed = true
        while changed {
            changed = false
            for i in ops.indices {
                for j in before[i] where rank[j] > rank[i] {
                    rank[j] = rank[i]
                    changed = true
                }
            }
        }
        var done = Array(repeating: false, count: ops.count)
        var result: [SchemaOperation] = []
        var noted: Set<Int> = []
        func key(_ i: Int) -> (Int, Int, Int) { (rank[i], ops[i].0.rawValue, i) }
        while done.contains(false) {
            let pending = ops.indices.filter { !done[$0] }
            var next = pending.filter { before[$0].allSatisfy { done[$0] } }.min { key($0) < key($1) }
            if next == nil {
                // A cycle: the earliest by kind goes first, and the cycle is named once.
                let first = pending.min { key($0) < key($1) }!
                let members = pending.filter { $0 == first || (reaches($0, first, before) && reaches(first, $0, before)) }
                if noted.isDisjoint(with: members) {
                    let names = members.map { describe(ops[$0].1) }
                    result.append(.notGenerated("these statements depend on each other in a cycle, so no order loads: \(names.joined(separator: "; ")); they are written in the kind order: split them by hand (make one without what needs the others, then ALTER it)"))
                }
                noted.formUnion(members)
                next = first
            }
            done[next!] = true
            result.append(ops[next!].1)
        }
        return result
    }

    /// Whether `a` must (transitively) run before `b`.
    private static func reaches(_ a: Int, _ b: Int, _ before: [Set<Int>]) -> Bool {
        var seen: Set<Int> = [], stack = [b]
        while let i = stack.popLast() {
            for j in before[i] where !seen.contains(j) {
                if j == a { return true }
                seen.insert(j)
                stack.append(j)
            }
        }
        return false
    }

    private static func describe(_ op: SchemaOperation) -> String {
        let nodes = OperationNodes(op, from: SchemaCatalog(), to: SchemaCatalog())
        return (nodes.provides.first.map { "make \($0)" } ?? nodes.removes.first.map { "drop \($0)" }) ?? "\(op)"
    }
}
