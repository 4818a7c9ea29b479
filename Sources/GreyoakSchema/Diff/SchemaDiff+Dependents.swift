/// What a drop takes with it: PostgreSQL refuses to drop (or change the type of) what a view,
/// materialized view, trigger or policy depends on, so those are dropped first and made again
/// after, found by following ``SchemaCatalog/dependencies`` of the side being left.
extension SchemaDiff {
    /// The nodes of `from` that this migration drops or changes in a way PostgreSQL refuses
    /// under a dependent: dropped tables, columns that go or change type, functions that go or
    /// whose signature changes (`CREATE OR REPLACE` cannot), materialized views that change.
    static func changedNodes(from: SchemaCatalog, to: SchemaCatalog, kept: [String], dropped: [String],
                             enumsToRebuild: Set<String>) -> [String: String] {
        var nodes: [String: String] = [:]
        for name in dropped { nodes["rel \(name)"] = "table \(name) is dropped" }
        for name in kept {
            let (a, b) = (from.tables[name]!, to.tables[name]!)
            for column in a.columns {
                let other = b.column(column.name)
                if other == nil || other?.type != column.type || other?.generatedExpression != column.generatedExpression
                    || enumsToRebuild.contains(enumName(column.type)) {
                    nodes["col \(name).\(column.name)"] = "column \(name).\(column.name) changes"
                }
            }
        }
        for object in from.objects.values {
            let new = to.objects[object.key]
            if [.function, .procedure].contains(object.kind), new == nil || new?.shape != object.shape {
                nodes[object.key] = new == nil ? "\(object.key) is dropped"
                    : "\(object.key) changes its result or arguments, which CREATE OR REPLACE cannot: it is dropped and made again"
            } else if object.kind == .materializedView, new != object {
                nodes["rel \(object.name)"] = "materialized view \(object.name) is dropped and made again"
            }
        }
        return nodes
    }

    /// `seeds` and, following `from`'s dependencies, the views and materialized views that
    /// depend on them (and on those, and so on), with why each is made again.
    static func dependentsRemade(from: SchemaCatalog, to: SchemaCatalog, views: Set<String>,
                                 seeds: [String: String]) -> [String: String] {
        var gone = seeds
        for name in views { gone["rel \(name)"] = "view \(name) is dropped and made again" }
        let relations = Set(from.views.keys.map { "rel \($0)" })
            .union(from.objects.values.filter { $0.kind == .materializedView }.map { "rel \($0.name)" })
        var changed = true
        while changed {
            changed = false
            for (node, needs) in from.dependencies.sorted(by: { $0.key < $1.key })
            where relations.contains(node) && gone[node] == nil && needs.contains(where: { gone[$0] != nil }) {
                let name = String(node.dropFirst(4))
                let what = from.views[name] != nil ? "view" : "materialized view"
                gone[node] = "\(what) \(name) depends on what changes, so it is dropped and made again"
                changed = true
            }
        }
        return gone
    }

    /// Why an object that `from` and `to` both hold must be dropped and made again, if it must:
    /// something it depends on is (see ``remadeNodes``).
    func remadeBecause(_ object: SchemaCatalog.Object) -> String? {
        let node = SchemaCatalog.node(of: object)
        if object.kind == .materializedView, let why = remadeNodes[node] { return why }
        return (from.dependencies[node] ?? []).sorted().lazy.compactMap { remadeNodes[$0] }.first
    }

    /// The columns of `table` whose default depends, through `catalog`'s dependencies, on
    /// the table itself (a function with a body PostgreSQL parses, `BEGIN ATOMIC`, that reads
    /// it): no order makes or drops the table and the function with the default in place.
    static func defaultsInACycle(_ table: SchemaCatalog.Table, _ catalog: SchemaCatalog) -> [SchemaCatalog.Column] {
        let own = Set(SchemaCatalog.nodes(of: table))
        return table.columns.filter { column in
            guard column.defaultExpression != nil else { return false }
            var seen: Set<String> = [], stack = Array(catalog.dependencies["default \(table.name).\(column.name)"] ?? [])
            while let node = stack.popLast() {
                if own.contains(node) { return true }
                if seen.insert(node).inserted { stack += catalog.dependencies[node] ?? [] }
            }
            return false
        }
    }

    /// A new table, made without the defaults that close a cycle (set after), and without
    /// its `NOT VALID` constraints (which `CREATE TABLE` would make valid; added after).
    mutating func createTable(_ table: SchemaCatalog.Table) {
        var bare = table
        for constraint in table.constraints.values.sorted(by: { $0.name < $1.name }) where constraint.definition.hasSuffix(" NOT VALID") {
            bare.constraints[constraint.name] = nil
            if constraint.kind != .foreignKey { add(.addConstraint(table: table.name, constraint, existingTable: false), in: .addConstraints) }
        }
        for column in Self.defaultsInACycle(table, to) {
            let index = bare.columns.firstIndex { $0.name == column.name }!
            bare.columns[index].defaultExpression = nil
            defaultsApart.insert("default \(table.name).\(column.name)")
            add(.setDefault(table: table.name, column: column.name, column.defaultExpression!), in: .columns)
        }
        add(.createTable(bare), in: .createTables)
    }
}
