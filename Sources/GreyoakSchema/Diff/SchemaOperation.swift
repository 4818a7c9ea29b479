/// One change to one object, as what it does rather than the SQL that does it: the unit that
/// ``SchemaDiff`` works out, ``DiffOrdering`` puts in order and ``SQLRenderer`` writes.
///
/// Names are unquoted; the renderer quotes them.
public enum SchemaOperation: Equatable, Sendable {
    /// Where a new enum label goes.
    public enum Placement: Equatable, Sendable { case after(String), before(String), end }

    // Relations
    case createTable(SchemaCatalog.Table)
    /// `renameCandidates`: tables the other side gains, named in a comment (renames are never guessed).
    case dropTable(String, renameCandidates: [String])
    case createView(String, query: String)
    case dropView(String)

    // Columns
    case addColumn(table: String, SchemaCatalog.Column)
    /// `only`: inheriting tables that keep the column keep their copy (`ALTER TABLE ONLY`).
    case dropColumn(table: String, column: String, renameCandidates: [String], only: Bool)
    /// `throughText`: the new type is an enum, reached through its labels.
    case alterColumnType(table: String, column: String, from: String, to: String, throughText: Bool)
    /// An enum column converted to its own, remade type (see ``enumSetAside(_:aside:gainsUsedValues:removed:)``).
    case convertEnumColumn(table: String, column: String, type: String)
    case setDefault(table: String, column: String, String)
    case dropDefault(table: String, column: String)
    case setNotNull(table: String, column: String, Bool)
    case addIdentity(table: String, column: String, always: Bool)
    case setIdentityKind(table: String, column: String, always: Bool)
    case dropIdentity(table: String, column: String)
    /// A new identity continues after the values the rows hold.
    case continueIdentity(table: String, column: String)

    // Constraints and indexes
    /// `existingTable`: the table has rows already, so CHECK and FOREIGN KEY go in NOT VALID first.
    case addConstraint(table: String, SchemaCatalog.Constraint, existingTable: Bool)
    case dropConstraint(table: String, name: String)
    /// `readded`: the key stays the same and is added again after the tables it joins change.
    case dropForeignKey(table: String, name: String, readded: Bool)
    case createIndex(table: String, SchemaCatalog.Index, existingTable: Bool)
    case dropIndex(String)

    // Types
    case createEnum(String, labels: [String])
    case addEnumValue(type: String, label: String, Placement)
    /// The first step of remaking an enum: the old type is renamed aside, dropped at the end.
    case enumSetAside(String, aside: String, gainsUsedValues: Bool, removed: [String])
    case dropType(String)
    case createDomain(SchemaCatalog.Domain)
    case dropDomain(String)
    case setDomainDefault(String, String?)
    case setDomainNotNull(String, Bool)
    case addDomainConstraint(String, name: String, definition: String)
    case dropDomainConstraint(String, name: String)

    // Sequences
    case createSequence(SchemaCatalog.Sequence)
    case alterSequence(SchemaCatalog.Sequence)
    case dropSequence(String)
    case sequenceOwnedBy(String, table: String, column: String)
    case sequenceOwnedByNone(String)
    /// A new sequence continues after the values its column holds.
    case continueSequence(String, table: String, column: String)

    // Everything else (see ``SchemaCatalog/Object``)
    /// `reason`: why an unchanged object is made again (what it hung on is dropped and made again).
    case createObject(SchemaCatalog.Object, reason: String?)
    case dropObject(SchemaCatalog.Object)
    case alterObject(SchemaCatalog.Object)
    /// Function bodies that name tables made later in the migration load, as pg_dump's do.
    case checkFunctionBodiesOff
    /// A partition of `parent`, with its bounds (and its own key, when it is partitioned too).
    case createPartition(String, parent: String, bound: String, partitionKey: String?)
    case inherit(table: String, parent: String, Bool)
    /// A partition leaves its parent (its rows stay, in a plain table), or joins one.
    case detachPartition(String, parent: String)
    case attachPartition(String, parent: String, bound: String)

    /// What greyoak does not write: a `-- NOT GENERATED:` line and a warning.
    case notGenerated(String)

}
