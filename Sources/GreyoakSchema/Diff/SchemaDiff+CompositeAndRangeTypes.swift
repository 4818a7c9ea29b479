/// Composite and range types that both sides hold but that differ (made and dropped as other
/// ``SchemaCatalog/Object``s are).
///
/// A composite type changes in place (`ALTER TYPE … ADD/DROP/ALTER ATTRIBUTE`) when its
/// attributes can reach their new order that way; PostgreSQL refuses `ALTER ATTRIBUTE … TYPE`
/// while a table column uses the type. A range type has no `ALTER` for what defines it: it is
/// dropped and made again when nothing depends on it, and otherwise left to a note.
extension SchemaDiff {
    enum TypeChange {
        case alter(SchemaCatalog.Object)
        case remake(reason: String)
        case note(String)
    }

    func typeChange(_ old: SchemaCatalog.Object, _ new: SchemaCatalog.Object) -> TypeChange {
        let node = SchemaCatalog.node(of: old)
        let dependents = from.dependencies.filter { $0.key != node && $0.value.contains(node) }.keys.sorted()
        let change = "\(old.key) changes from \(old.definition) to \(new.definition)"
        func remakeOrNote(_ why: String) -> TypeChange {
            dependents.isEmpty
                ? .remake(reason: "\(change), which \(why): dropped and made again (nothing uses it)")
                : .note("\(change), which \(why), and \(dependents.joined(separator: ", ")) uses it: write that by hand")
        }
        guard old.kind == .compositeType else { return remakeOrNote("no ALTER TYPE does") }
        let newNames = new.attributes.map(\.name), oldNames = old.attributes.map(\.name)
        let added = new.attributes.filter { !oldNames.contains($0.name) }
        let kept = old.attributes.filter { newNames.contains($0.name) }
        guard kept.map(\.name) + added.map(\.name) == newNames else {
            return remakeOrNote("reorders its attributes (ADD ATTRIBUTE only appends)")
        }
        let type = q(old.name)
        var statements = old.attributes.filter { !newNames.contains($0.name) }.map { "ALTER TYPE \(type) DROP ATTRIBUTE \(q($0.name))" }
        let retyped = kept.compactMap { attribute in
            new.attributes.first { $0.name == attribute.name && $0.type != attribute.type }
        }
        let usedByColumns = from.tables.values.flatMap { table in
            table.columns.filter { [type, type + "[]"].contains($0.type) }.map { "\(table.name).\($0.name)" }
        }.sorted()
        if !retyped.isEmpty, !usedByColumns.isEmpty {
            return .note("\(change), and ALTER ATTRIBUTE … TYPE is refused while column \(usedByColumns.joined(separator: ", ")) uses it: write that by hand")
        }
        statements += retyped.map { "ALTER TYPE \(type) ALTER ATTRIBUTE \(q($0.name)) TYPE \($0.type)" }
        statements += added.map { "ALTER TYPE \(type) ADD ATTRIBUTE \(q($0.name)) \($0.type)" }
        var altered = new
        altered.alter = statements
        return .alter(altered)
    }
}
