import Foundation
import Logging

/// Applies and reverts migrations against a live database, Alembic-compatibly.
///
/// Each migration runs in its own transaction together with its `alembic_version` change
/// and its audit row; a non-transactional one runs statement by statement in autocommit,
/// and its version change follows only once every statement succeeded. The whole run holds
/// the exclusive ``SchemaLock``.
public final class Migrator {
    public let graph: RevisionGraph
    let connection: Connection
    let logger: Logger
    /// Seconds to wait for the schema lock.
    public var lockTimeout: Double

    public init(graph: RevisionGraph, connection: Connection, logger: Logger, lockTimeout: Double = 60) {
        self.graph = graph
        self.connection = connection
        self.logger = logger
        self.lockTimeout = lockTimeout
    }

    /// The database's current heads, checked against the migration files.
    ///
    /// - Throws: ``GreyoakError/Code/aheadOrUnknown`` for a revision no file defines.
    public func currentHeads() throws -> [String] {
        let heads = try VersionTable.heads(connection)
        if let unknown = heads.first(where: { graph.migrations[$0] == nil }) {
            throw GreyoakError(.aheadOrUnknown, "Can't locate revision identified by '\(unknown)'",
                               hint: "the database was migrated by newer code or other migration files than those in \(graph.directory)")
        }
        return heads
    }

    /// The state of the database relative to the migration heads, for `current --check-heads`
    /// and the ingest gate.
    ///
    /// - Throws: ``GreyoakError`` with the code for behind, unknown or several heads.
    public func requireAtHead() throws {
        let current = try currentHeads()
        let heads = graph.heads
        if Set(current) == Set(heads) { return }
        let currentText = current.isEmpty ? "<base> (no revision)" : current.joined(separator: ", ")
        throw GreyoakError(.behindHead,
                           "the database is at \(currentText), not at head \(heads.joined(separator: ", "))",
                           hint: "run `greyoak db upgrade \(heads.count == 1 ? "head" : "heads")`")
    }

    /// Upgrades to `spec` (see ``RevisionGraph/resolve(_:current:)``).
    @discardableResult
    ///
    /// Interrupted loads are recovered first (their prepared transactions would hold locks on
    /// `scores` that a migration waits for), and greyoak's bookkeeping tables are made last,
    /// so that loads need no CREATE privilege.
    public func upgrade(to spec: String) throws -> [MigrationStep] {
        try locked {
            try LoadRecovery(connection: connection, logger: logger).run()
            let current = try currentHeads()
            let steps = try graph.upgradePlan(from: current, to: try graph.resolve(spec, current: current))
            try steps.forEach(run)
            try connection.transaction { try Bookkeeping.create(connection) }
            return steps
        }
    }

    /// Downgrades to `spec`.
    @discardableResult
    public func downgrade(to spec: String) throws -> [MigrationStep] {
        try locked {
            let current = try currentHeads()
            let steps = try graph.downgradePlan(from: current, to: try graph.resolve(spec, current: current))
            if !steps.isEmpty { try LoadRecovery(connection: connection, logger: logger).run() }
            try steps.forEach(run)
            return steps
        }
    }

    /// Sets the version table to `spec` without running migrations.
    ///
    /// - Parameter purge: Delete every row first, even unknown revisions.
    @discardableResult
    public func stamp(_ spec: String, purge: Bool) throws -> [VersionChange] {
        try locked {
            let current = purge ? try VersionTable.heads(connection) : try currentHeads()
            let targets = try graph.resolve(spec, current: current)
            let changes = graph.stampChanges(from: current, to: targets, purge: purge)
            let started = Date()
            try connection.transaction {
                try VersionTable.create(connection)
                try AuditLog.create(connection)
                for change in changes { try VersionTable.apply(change, connection) }
                logger.info("Stamping \(current.joined(separator: ", ")) -> \(targets.joined(separator: ", "))")
                try AuditLog.record(connection, revision: targets.first ?? "base", operation: "stamp", before: current,
                                    after: targets, checksum: nil, started: started)
            }
            return changes
        }
    }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        try SchemaLock.withLock(connection, mode: .exclusive, timeout: lockTimeout, logger: logger, body)
    }

    private func run(_ step: MigrationStep) throws {
        let migration = step.migration
        let direction = step.isUpgrade ? "upgrade" : "downgrade"
        logger.info("Running \(Self.describe(step))")
        let started = Date()
        let record = {
            for change in step.versionChanges { try VersionTable.apply(change, self.connection) }
            try AuditLog.record(self.connection, revision: migration.revision, operation: direction,
                                before: step.headsBefore, after: step.headsAfter,
                                checksum: migration.checksum, started: started)
        }
        if migration.transactional {
            try connection.transaction {
                try VersionTable.create(connection)
                try AuditLog.create(connection)
                try execute(step)
                try record()
            }
        } else {
            try connection.transaction {
                try VersionTable.create(connection)
                try AuditLog.create(connection)
            }
            try execute(step)
            try connection.transaction(record)
        }
    }

    private func execute(_ step: MigrationStep) throws {
        let migration = step.migration
        let statements = migration.statements(upgrade: step.isUpgrade)
        for (index, statement) in statements.enumerated() {
            do {
                try connection.execute(statement.text)
            } catch {
                throw MigrationFailure(step: step, statementIndex: index, statementCount: statements.count,
                                       statement: statement, error: error)
            }
        }
    }

    /// `upgrade  -> 183eb85141bf, Initial schema with scores table`, as Alembic logs it.
    static func describe(_ step: MigrationStep) -> String {
        let migration = step.migration
        let parents = migration.parents.joined(separator: ", ")
        return step.isUpgrade
            ? "upgrade \(parents) -> \(migration.revision), \(migration.message)"
            : "downgrade \(migration.revision) -> \(parents), \(migration.message)"
    }
}

/// A migration statement failed: names the file, the statement and where the database is left.
public struct MigrationFailure: Error, CustomStringConvertible {
    public let step: MigrationStep
    public let statementIndex: Int
    public let statementCount: Int
    public let statement: SQLSplitter.Statement
    public let error: PostgresError

    public var description: String {
        let migration = step.migration
        let before = step.headsBefore.isEmpty ? "<base>" : step.headsBefore.joined(separator: ", ")
        var text = """
            \(step.isUpgrade ? "upgrade" : "downgrade") \(migration.revision) failed at \(migration.path):\(statement.line), \
            statement \(statementIndex + 1) of \(statementCount):
              \(Connection.abbreviate(statement.text))
              \(error.description.replacingOccurrences(of: "\n", with: "\n  "))
            """
        if migration.transactional {
            text += "\nThe migration was rolled back: the database is still at \(before)."
        } else if statementIndex > 0 {
            text += "\nThis migration is non-transactional: its first \(statementIndex) statement(s) stay applied, and alembic_version still says \(before). Fix the cause, undo or complete them by hand, then run the command again."
        } else {
            text += "\nNothing of this migration was applied: the database is still at \(before)."
        }
        if step.headsBefore.isEmpty, [SQLState.duplicateTable, SQLState.duplicateObject].contains(error.sqlState ?? "") {
            text += """

                The database holds objects that no migration made, but alembic_version records no revision: \
                an unmanaged schema is in the way (such as the legacy `scores` table of the original Docker init script, \
                with columns id, date, score). Nothing was changed. Run `greyoak db verify` to see it; move it aside \
                (ALTER TABLE scores RENAME TO scores_legacy) or, if it is exactly this schema, `greyoak db stamp head`.
                """
        }
        return text
    }
}
