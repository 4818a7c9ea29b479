import Foundation

/// Writes ``SchemaOperation``s as PostgreSQL statements, with the comments a reviewer needs
/// and the reason a statement can lose data.
struct SQLRenderer {
    /// The catalog whose keyword list quotes names.
    let catalog: SchemaCatalog

    private func q(_ name: String) -> String { catalog.quote(name) }

    func render(_ operations: [SchemaOperation]) -> [SchemaChange] { operations.flatMap(render) }

    func render(_ operation: SchemaOperation) -> [SchemaChange] {
        func one(_ sql: String?, _ comments: [String] = [], destructive: String? = nil) -> [SchemaChange] {
            [SchemaChange(sql, comments: comments, destructive: destructive)]
        }
        func alter(_ table: String, _ column: String) -> String { "ALTER TABLE \(q(table)) ALTER COLUMN \(q(column))" }
        switch operation {
        case let .createTable(table):
            var lines = table.columns.map(columnDefinition)
            lines += table.constraints.values.filter { $0.kind != .foreignKey }.sorted { $0.name < $1.name }
                .map { "CONSTRAINT \(q($0.name)) \($0.definition)" }
            let inherits = table.inherits.isEmpty ? "" : " INHERITS (\(table.inherits.map(q).joined(separator: ", ")))"
            let partition = table.partitionKey.map { " PARTITION BY \($0)" } ?? ""
            return one("CREATE TABLE \(q(table.name)) (\n    \(lines.joined(separator: ",\n    "))\n)\(inherits)\(partition)")
        case let .createPartition(name, parent, bound, key):
            return one("CREATE TABLE \(q(name)) PARTITION OF \(q(parent)) \(bound)\(key.map { " PARTITION BY \($0)" } ?? "")")
        case let .detachPartition(name, parent):
            return one("ALTER TABLE \(q(parent)) DETACH PARTITION \(q(name))",
                       ["\(name) leaves \(parent) with its rows, and is attached again below"])
        case let .attachPartition(name, parent, bound):
            return one("ALTER TABLE \(q(parent)) ATTACH PARTITION \(q(name)) \(bound)",
                       ["checks that every row of \(name) fits (a scan under an ACCESS EXCLUSIVE lock on \(name)), and of \(parent)'s default partition if it has one; fails, changing nothing, if a row does not: move such rows first"])
        case let .inherit(table, parent, inherit):
            return one("ALTER TABLE \(q(table)) \(inherit ? "" : "NO ")INHERIT \(q(parent))")
        case let .dropTable(name, candidates):
            let hint = candidates.isEmpty ? [] : [
                "greyoak never guesses renames: if \(name) became \(candidates.joined(separator: " or ")), write ALTER TABLE \(q(name)) RENAME TO … instead of this DROP and the CREATE below, to keep its rows",
            ]
            return one("DROP TABLE \(q(name))", hint, destructive: "drops table \(name) and every row in it")
        case let .createView(name, query):
            var query = query.trimmingCharacters(in: .whitespacesAndNewlines)
            if query.hasSuffix(";") { query.removeLast() }
            return one("CREATE VIEW \(q(name)) AS\n\(query)")
        case let .dropView(name):
            return one("DROP VIEW \(q(name))")

        case let .addColumn(table, column):
            let warning = column.notNull && column.defaultExpression == nil && column.identity == nil && column.generatedExpression == nil
                ? ["NOT NULL without a default fails if \(table) has rows: add a default, or add it nullable, backfill, then SET NOT NULL"] : []
            return one("ALTER TABLE \(q(table)) ADD COLUMN \(columnDefinition(column))", warning)
        case let .dropColumn(table, column, candidates, only):
            let hint = candidates.isEmpty ? [] : [
                "greyoak never guesses renames: if \(column) became \(candidates.joined(separator: " or ")), write ALTER TABLE \(q(table)) RENAME COLUMN \(q(column)) TO … instead of this DROP and the ADD below, to keep its data",
            ]
            return one("ALTER TABLE \(only ? "ONLY " : "")\(q(table)) DROP COLUMN \(q(column))", hint + (only ? ["ONLY: the tables that inherit \(table) keep their own \(column)"] : []),
                       destructive: "drops column \(table).\(column) and its data")
        case let .alterColumnType(table, column, old, new, throughText):
            let cast = throughText ? "::text\(new.hasSuffix("[]") ? "[]" : "")::\(new)" : "::\(new)"
            return one("\(alter(table, column)) TYPE \(new) USING \(q(column))\(cast)",
                       destructive: TypeWidening.isWidening(from: old, to: new) ? nil
                           : "\(table).\(column) changes from \(old) to \(new), which can fail or lose data")
        case let .convertEnumColumn(table, column, type):
            let array = type.hasSuffix("[]") ? "[]" : ""
            return one("\(alter(table, column)) TYPE \(type) USING \(q(column))::text\(array)::\(type)")
        case let .setDefault(table, column, value):
            return one("\(alter(table, column)) SET DEFAULT \(value)")
        case let .dropDefault(table, column):
            return one("\(alter(table, column)) DROP DEFAULT")
        case let .setNotNull(table, column, notNull):
            return one("\(alter(table, column)) \(notNull ? "SET" : "DROP") NOT NULL",
                       notNull ? ["SET NOT NULL fails if a row holds NULL, and scans \(table) under an ACCESS EXCLUSIVE lock"] : [])
        case let .addIdentity(table, column, always):
            return one("\(alter(table, column)) ADD GENERATED \(always ? "ALWAYS" : "BY DEFAULT") AS IDENTITY")
        case let .setIdentityKind(table, column, always):
            return one("\(alter(table, column)) SET GENERATED \(always ? "ALWAYS" : "BY DEFAULT")")
        case let .dropIdentity(table, column):
            return one("\(alter(table, column)) DROP IDENTITY")
        case let .continueIdentity(table, column):
            return one("SELECT setval(pg_get_serial_sequence(\(sqlLiteral(q(table))), \(sqlLiteral(column))), coalesce(max(\(q(column))), 0) + 1, false) FROM \(q(table))",
                       ["the identity continues after the values the rows hold"])

        case let .addConstraint(table, constraint, existingTable):
            return addConstraint(table, constraint, existingTable: existingTable)
        case let .dropConstraint(table, name):
            return one("ALTER TABLE \(q(table)) DROP CONSTRAINT \(q(name))")
        case let .dropForeignKey(table, name, readded):
            return one("ALTER TABLE \(q(table)) DROP CONSTRAINT \(q(name))", readded ? ["dropped to let the tables it joins change; added again below"] : [])
        case let .createIndex(table, index, existingTable):
            let note = existingTable ? [
                "blocks writes to \(table) while it builds: on a large table, move it to a separate revision marked `-- Transactional: no` as CREATE INDEX CONCURRENTLY",
            ] : []
            // `ON ONLY` is how the server prints a partitioned table's index; made without
            // it, the index also reaches the partitions.
            return one(index.definition.replacingOccurrences(of: " ON ONLY ", with: " ON "), note)
        case let .dropIndex(name):
            return one("DROP INDEX \(q(name))")

        case let .createEnum(name, labels):
            return one("CREATE TYPE \(q(name)) AS ENUM (\(labels.map(sqlLiteral).joined(separator: ", ")))")
        case let .addEnumValue(type, label, placement):
            let place = switch placement {
            case let .after(other): " AFTER \(sqlLiteral(other))"
            case let .before(other): " BEFORE \(sqlLiteral(other))"
            case .end: ""
            }
            return one("ALTER TYPE \(q(type)) ADD VALUE \(sqlLiteral(label))\(place)")
        case let .enumSetAside(name, aside, gainsUsedValues, removed):
            return one("ALTER TYPE \(q(name)) RENAME TO \(q(aside))",
                       [gainsUsedValues
                           ? "enum \(name) gains values that this migration uses, which ADD VALUE does not allow in one transaction: rename it, create it anew, convert its columns through text, drop the old one"
                           : "enum \(name) loses or reorders values, which ALTER TYPE cannot do: rename it, create it anew, convert its columns through text, drop the old one"],
                       destructive: removed.isEmpty ? nil : "values \(removed.map(sqlLiteral).joined(separator: ", ")) are removed: converting a row that holds one fails")
        case let .dropType(name):
            return one("DROP TYPE \(q(name))")
        case let .createDomain(domain):
            var sql = "CREATE DOMAIN \(q(domain.name)) AS \(domain.baseType)"
            if let value = domain.defaultExpression { sql += " DEFAULT \(value)" }
            if domain.notNull { sql += " NOT NULL" }
            for (check, definition) in domain.checks.sorted(by: { $0.key < $1.key }) { sql += " CONSTRAINT \(q(check)) \(definition)" }
            return one(sql)
        case let .dropDomain(name):
            return one("DROP DOMAIN \(q(name))")
        case let .setDomainDefault(name, value):
            return one(value.map { "ALTER DOMAIN \(q(name)) SET DEFAULT \($0)" } ?? "ALTER DOMAIN \(q(name)) DROP DEFAULT")
        case let .setDomainNotNull(name, notNull):
            return one("ALTER DOMAIN \(q(name)) \(notNull ? "SET" : "DROP") NOT NULL")
        case let .addDomainConstraint(name, check, definition):
            return one("ALTER DOMAIN \(q(name)) ADD CONSTRAINT \(q(check)) \(definition)")
        case let .dropDomainConstraint(name, check):
            return one("ALTER DOMAIN \(q(name)) DROP CONSTRAINT \(q(check))")

        case let .createSequence(sequence):
            return one("CREATE SEQUENCE \(q(sequence.name)) \(sequenceOptions(sequence))")
        case let .alterSequence(sequence):
            return one("ALTER SEQUENCE \(q(sequence.name)) \(sequenceOptions(sequence))")
        case let .dropSequence(name):
            return one("DROP SEQUENCE \(q(name))")
        case let .sequenceOwnedBy(name, table, column):
            return one("ALTER SEQUENCE \(q(name)) OWNED BY \(q(table)).\(q(column))")
        case let .sequenceOwnedByNone(name):
            return one("ALTER SEQUENCE \(q(name)) OWNED BY NONE")
        case let .continueSequence(name, table, column):
            return one("SELECT setval(\(sqlLiteral(q(name))), coalesce(max(\(q(column))), 0) + 1, false) FROM \(q(table))",
                       ["the new sequence continues after the values the rows hold"])

        case let .createObject(object, reason):
            return object.create.enumerated().map { SchemaChange($1, comments: $0 == 0 ? reason.map { [$0] } ?? [] : []) }
        case let .dropObject(object):
            return object.drop.map { SchemaChange($0, destructive: object.kind == .materializedView ? "drops materialized view \(object.name) and its rows (refreshed when made again)" : nil) }
        case let .alterObject(object):
            return (object.alter ?? object.create).map { SchemaChange($0) }
        case .checkFunctionBodiesOff:
            return one("SET LOCAL check_function_bodies = off", ["function bodies may name tables made below (as pg_dump does); ends with the transaction"])

        case let .notGenerated(what):
            return one(nil, ["NOT GENERATED: \(what)"])
        }
    }

    func columnDefinition(_ column: SchemaCatalog.Column) -> String {
        var text = "\(q(column.name)) \(column.type)"
        if let expression = column.generatedExpression { text += " GENERATED ALWAYS AS (\(expression)) STORED" }
        if let value = column.defaultExpression { text += " DEFAULT \(value)" }
        if column.notNull { text += " NOT NULL" }
        if let identity = column.identity { text += identity == "a" ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY" }
        return text
    }

    private func sequenceOptions(_ s: SchemaCatalog.Sequence) -> String {
        "AS \(s.type) INCREMENT BY \(s.increment) MINVALUE \(s.minimum) MAXVALUE \(s.maximum) START WITH \(s.start) CACHE \(s.cache) \(s.cycle ? "CYCLE" : "NO CYCLE")"
    }

    /// On a table that exists already, CHECK and FOREIGN KEY go in as NOT VALID, then a
    /// VALIDATE that scans the rows under a lock that lets writes go on.
    private func addConstraint(_ table: String, _ constraint: SchemaCatalog.Constraint, existingTable: Bool) -> [SchemaChange] {
        let alter = "ALTER TABLE \(q(table))"
        let notValid = constraint.definition.hasSuffix(" NOT VALID")
        if existingTable, !notValid, [.check, .foreignKey].contains(constraint.kind) {
            return [
                SchemaChange("\(alter) ADD CONSTRAINT \(q(constraint.name)) \(constraint.definition) NOT VALID",
                             comments: ["NOT VALID first: checks new rows only, with a short lock; VALIDATE then checks the old rows without blocking writes"]),
                SchemaChange("\(alter) VALIDATE CONSTRAINT \(q(constraint.name))"),
            ]
        }
        let note = existingTable && [.primaryKey, .unique].contains(constraint.kind)
            ? ["builds a unique index while blocking writes: on a large table, CREATE UNIQUE INDEX CONCURRENTLY in a separate non-transactional revision, then ADD CONSTRAINT … USING INDEX"] : []
        return [SchemaChange("\(alter) ADD CONSTRAINT \(q(constraint.name)) \(constraint.definition)", comments: note)]
    }
}
