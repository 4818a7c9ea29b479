/// Which nodes of ``SchemaCatalog/dependencies`` an operation makes or changes (`provides`),
/// drops (`removes`), changes so that it may no longer depend on what it did (`modifies`: a
/// new type or default, a dropped check), and needs besides what the catalog records
/// (`needs`): how ``DiffOrdering`` finds its place.
struct OperationNodes {
    var provides: [String] = []
    var removes: [String] = []
    var modifies: [String] = []
    var needs: [String] = []

    /// `defaultsApart`: columns whose default is set after their table is made, or dropped
    /// before it is dropped (see ``SchemaDiff/defaultsInACycle(_:_:)``); the `SET DEFAULT` or
    /// `DROP DEFAULT` stands for the column.
    init(_ operation: SchemaOperation, from: SchemaCatalog, to: SchemaCatalog, defaultsApart: Set<String> = []) {
        func column(_ table: String, _ column: String) -> String { "col \(table).\(column)" }
        switch operation {
        case let .createTable(table):
            provides = SchemaCatalog.nodes(of: table)
        case let .dropTable(name, _):
            removes = (from.tables[name].map(SchemaCatalog.nodes(of:)) ?? ["rel \(name)"]).filter { !defaultsApart.contains($0) }
        case let .createPartition(name, parent, _, _):
            provides = to.tables[name].map(SchemaCatalog.nodes(of:)) ?? ["rel \(name)"]
            needs = ["rel \(parent)"]
        case let .detachPartition(name, _):
            modifies = ["rel \(name)"]
        case let .attachPartition(name, parent, _):
            provides = ["rel \(name)"]
            needs = ["rel \(parent)"]
        case let .inherit(table, parent, _):
            provides = ["rel \(table)"]
            needs = ["rel \(parent)"]
        case let .createView(name, _):
            provides = ["rel \(name)"]
        case let .dropView(name):
            removes = ["rel \(name)"]

        case let .addColumn(table, added):
            provides = SchemaCatalog.nodes(of: added, in: table)
        case let .dropColumn(table, name, _, _):
            removes = [column(table, name), "default \(table).\(name)"]
        case let .alterColumnType(table, name, _, _, _), let .convertEnumColumn(table, name, _):
            provides = [column(table, name)]
            modifies = provides
        case let .setDefault(table, name, _):
            provides = ["default \(table).\(name)"]
            modifies = provides
            needs = [column(table, name)]
        case let .setNotNull(table, name, _), let .addIdentity(table, name, _),
             let .setIdentityKind(table, name, _), let .continueIdentity(table, name):
            provides = [column(table, name)]
        case let .dropDefault(table, name), let .dropIdentity(table, name):
            modifies = ["default \(table).\(name)"]

        case let .addConstraint(table, constraint, _):
            provides = ["con \(table).\(constraint.name)"]
        case let .dropConstraint(table, name), let .dropForeignKey(table, name, _):
            removes = ["con \(table).\(name)"]
        case let .createIndex(_, index, _):
            provides = ["rel \(index.name)"]
        case let .dropIndex(name):
            removes = ["rel \(name)"]

        // Renaming an enum aside changes it in place; its columns are converted after.
        case let .createDomain(domain):
            provides = ["type \(domain.name)"]
        case let .createEnum(name, _), let .addEnumValue(name, _, _), let .enumSetAside(name, _, _, _),
             let .setDomainNotNull(name, _), let .addDomainConstraint(name, _, _):
            provides = ["type \(name)"]
        case let .setDomainDefault(name, _), let .dropDomainConstraint(name, _):
            provides = ["type \(name)"]
            modifies = provides
        case let .dropType(name), let .dropDomain(name):
            removes = ["type \(name)"]

        case let .createSequence(sequence), let .alterSequence(sequence):
            provides = ["rel \(sequence.name)"]
        case let .dropSequence(name):
            removes = ["rel \(name)"]
        // What a sequence's owner and position need, but nothing needs them: a default reads
        // the sequence before it is OWNED BY the column.
        case let .sequenceOwnedByNone(name):
            needs = ["rel \(name)"]
        case let .sequenceOwnedBy(name, table, owner), let .continueSequence(name, table, owner):
            needs = ["rel \(name)", column(table, owner)]

        case let .createObject(object, _):
            provides = [SchemaCatalog.node(of: object)]
            needs = [.grant, .comment].contains(object.kind) ? SchemaCatalog.target(of: object.name).map { [$0] } ?? [] : []
        case let .alterObject(object):
            provides = [SchemaCatalog.node(of: object)]
            modifies = provides
        case let .dropObject(object):
            removes = [SchemaCatalog.node(of: object)]
        case .checkFunctionBodiesOff, .notGenerated:
            break
        }
    }
}
