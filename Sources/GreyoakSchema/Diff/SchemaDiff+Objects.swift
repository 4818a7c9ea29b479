import GreyoakPostgres
/// Functions, triggers, policies, row-level security, grants, comments, extensions,
/// collations, composite and range types, and materialized views (``SchemaCatalog/Object``).
///
/// Extensions, collations and functions are made before the tables (columns, defaults and
/// checks use them) and dropped after them; everything that hangs on a relation is removed
/// first and made last. An object that hangs on a view (or column) that is dropped and made
/// again is made again too, with a comment that says why: PostgreSQL drops it with the view.
extension SchemaDiff {
    /// The views, materialized views and `table.column`s this migration drops and makes again.
    func remadeRelations(reshaped: Set<String>) -> (Set<String>, [String: String]) {
        var remade: [String: String] = [:]
        for name in viewsToRemake { remade[name] = "view \(name) is dropped and made again" }
        for table in keptTables {
            for column in replacedColumns(table) where to.tables[table]?.column(column.name) != nil {
                remade["\(table).\(column.name)"] = "column \(table).\(column.name) is dropped and added again"
            }
        }
        // A materialized view that reads a relation that changes shape is made again, and so
        // is what hangs on it.
        var matviews: Set<String> = []
        for object in from.objects.values where object.kind == .materializedView {
            let name = object.name
            if to.objects[object.key] == object, !object.reads.isDisjoint(with: reshaped.union(remade.keys)) {
                remade[name] = "materialized view \(name) reads a relation that changes"
                matviews.insert(name)
            } else if to.objects[object.key] == object, let why = remadeNodes["rel \(name)"] {
                remade[name] = why
                matviews.insert(name)
            }
        }
        return (matviews, remade)
    }

    mutating func changeObjects(reshaped: Set<String>) {
        let (remadeMatviews, remade) = remadeRelations(reshaped: reshaped)
        let keys = Set(from.objects.keys).union(to.objects.keys)
        let rank = Dictionary(uniqueKeysWithValues: SchemaCatalog.Object.Kind.allCases.enumerated().map { ($1, $0) })
        func sorted(_ objects: [SchemaCatalog.Object]) -> [SchemaCatalog.Object] {
            objects.sorted { (rank[$0.kind]!, $0.name) < (rank[$1.kind]!, $1.name) }
        }
        var drops: [SchemaCatalog.Object] = [], creates: [(SchemaCatalog.Object, String?)] = [], alters: [SchemaCatalog.Object] = []
        for key in keys {
            let old = from.objects[key], new = to.objects[key]
            let why = old.flatMap { object in
                object.kind == .materializedView && remadeMatviews.contains(object.name) ? remade[object.name]
                    : object.hangsOn.lazy.compactMap { remade[$0] }.first ?? remadeBecause(object)
            }
            if let old, let new, old != new, [.compositeType, .rangeType].contains(old.kind) {
                switch typeChange(old, new) {
                case let .alter(object): alters.append(object)
                case let .remake(reason): drops.append(old); creates.append((new, reason))
                case let .note(text): add(.notGenerated(text), in: .createEarlyObjects)
                }
                continue
            }
            switch (old, new) {
            case let (old?, new?) where old.kind == .extension && old.version != new.version
                && !old.reachableVersions.contains(new.version ?? ""):
                // No update script leads there (PostgreSQL ships none that go down): made anew,
                // once what uses it is gone.
                add(.dropObject(old), in: .createEarlyObjects)
                creates.append((new, "extension \(new.name) has no update path from \(old.version ?? "?") to \(new.version ?? "?"): dropped and made again"))
            case let (old?, nil): drops.append(old)
            case let (nil, new?): creates.append((new, nil))
            case let (old?, new?) where old != new:
                if old.alter != nil, new.alter != nil, old.create != new.create || old.definition != new.definition, why == nil,
                   old.shape == new.shape {
                    alters.append(new)
                } else {
                    drops.append(old)
                    let replaced = old.shape != new.shape ? "\(old.key) changes its result or arguments, which CREATE OR REPLACE cannot: dropped and made again" : nil
                    creates.append((new, why.map { "made again: \($0), which drops it" } ?? replaced))
                }
            case let (old?, new?) where why != nil:
                drops.append(old)
                creates.append((new, "made again: \(why!), which drops it"))
            default: break
            }
        }
        for object in sorted(drops).reversed() {
            add(.dropObject(object), in: object.kind.isEarly ? .dropLateObjects : .dropDependentObjects)
        }
        let early = creates.filter { $0.0.kind.isEarly } + alters.filter(\.kind.isEarly).map { ($0, nil) }
        if early.contains(where: { [.function, .procedure].contains($0.0.kind) }) {
            add(.checkFunctionBodiesOff, in: .createEarlyObjects)
        }
        for object in sorted(alters) { add(.alterObject(object), in: object.kind.isEarly ? .createEarlyObjects : .createLateObjects) }
        for (object, reason) in creates.sorted(by: { (rank[$0.0.kind]!, $0.0.name) < (rank[$1.0.kind]!, $1.0.name) }) {
            add(.createObject(object, reason: reason), in: object.kind.isEarly ? .createEarlyObjects : .createLateObjects)
            if let revoke = publicExecuteRevoked(object) { add(.createObject(revoke, reason: nil), in: .createLateObjects) }
        }
    }

    /// A new function may be run by everyone (`EXECUTE` to `PUBLIC`) unless revoked: the
    /// revoke, when `to` has taken that away.
    private func publicExecuteRevoked(_ object: SchemaCatalog.Object) -> SchemaCatalog.Object? {
        guard [.function, .procedure].contains(object.kind) else { return nil }
        let target = "\(object.kind == .procedure ? "PROCEDURE" : "FUNCTION") \(object.name)"
        let grant = SchemaCatalog.Object(kind: .grant, name: "EXECUTE on \(target) to PUBLIC", definition: "", create: [], drop: [])
        guard to.objects[grant.key] == nil else { return nil }
        let sql = "REVOKE EXECUTE ON \(target) FROM PUBLIC"
        return SchemaCatalog.Object(kind: .grant, name: "no EXECUTE on \(target) to PUBLIC", definition: sql, create: [sql], drop: [])
    }
}
