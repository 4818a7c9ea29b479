import Foundation
import Logging
import GreyoakPostgres

/// Applies and reverts migrations against a live database, Alembic-compatibly.
///
/// Each migration runs in its own transaction together with its `alembic_version` change
/// and its audit row; a non-transactional one runs statement by statement in autocommit,
/// and its version change follows only once every statement succeeded. The whole run holds
/// the exclusive ``SchemaLock``.
///
/// Behind a transaction pooler (``Connection/pooled``) a non-transactional migration and
/// `pg_dump` need a session of their own: they run on the direct connection
/// (``ConnectionSettings/direct``), or the run stops before it changes anything.
public final class Migrator {
    public let graph: RevisionGraph
    let connection: Connection
    let logger: Logger
    /// Seconds to wait for the schema lock.
    public var lockTimeout: Double
    /// How each migration waits for the locks its statements take.
    public var lockPolicy: LockRetryPolicy
    /// A directory to dump the database into (`pg_dump`) before the first migration runs.
    public var backupDirectory: String?
    /// Encrypt that dump to these age recipients (validate them before the migrator runs).
    public var backupRecipients: AgeRecipients?
    /// Who blocks this connection, while `upgrade` or `downgrade` runs.
    private var watcher: BlockingSessionWatcher?
    /// Lock retries of the migration that is running, for its audit row.
    private var retries = 0
    /// The server itself, past the pooler, for what needs a session (see ``sessionConnection(for:)``).
    private var directConnection: Connection?
    /// The loads' crash recovery and tables, which upgrades and downgrades look after.
    let housekeeping: any LoadHousekeeping

    public init(graph: RevisionGraph, connection: Connection, housekeeping: any LoadHousekeeping, logger: Logger,
                lockTimeout: Double = 60, lockPolicy: LockRetryPolicy = LockRetryPolicy()) {
        self.graph = graph
        self.connection = connection
        self.housekeeping = housekeeping
        self.logger = logger
        self.lockTimeout = lockTimeout
        self.lockPolicy = lockPolicy
    }

    /// The connection settings a migrator's connection should use: `greyoak migrator`, with
    /// `lock_timeout` as the session's default so that a `RESET` in a migration keeps it.
    public static func settings(_ settings: ConnectionSettings, policy: LockRetryPolicy) -> ConnectionSettings {
        settings.named("migrator").lockTimeout(milliseconds: policy.timeout.milliseconds)
    }

    /// The database's current heads, checked against the migration files.
    ///
    /// - Throws: ``GreyoakError/Code/aheadOrUnknown`` for a revision no file defines.
    public func currentHeads() throws -> [String] {
        try graph.currentHeads(of: connection)
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
    ///
    /// Interrupted loads are recovered first (their prepared transactions would hold locks on
    /// `scores` that a migration waits for), and greyoak's bookkeeping tables are made last,
    /// so that loads need no CREATE privilege.
    @discardableResult
    public func upgrade(to spec: String) throws -> [MigrationStep] {
        try locked {
            let current = try currentHeads()
            let steps = try graph.upgradePlan(from: current, to: try graph.resolve(spec, current: current))
            try requireSessions(for: steps)
            try housekeeping.recoverInterruptedLoads(connection, logger: logger)
            try runAll(steps, from: current)
            try connection.transaction { try Bookkeeping.create(connection, housekeeping) }
            try housekeeping.followScores(connection, logger: logger)
            return steps
        }
    }

    /// Downgrades to `spec`.
    @discardableResult
    public func downgrade(to spec: String) throws -> [MigrationStep] {
        try locked {
            let current = try currentHeads()
            let steps = try graph.downgradePlan(from: current, to: try graph.resolve(spec, current: current))
            try requireSessions(for: steps)
            if !steps.isEmpty { try housekeeping.recoverInterruptedLoads(connection, logger: logger) }
            try runAll(steps, from: current)
            if !steps.isEmpty { try housekeeping.followScores(connection, logger: logger) }
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

    /// The connection for what needs a session of its own: `connection` itself, unless a
    /// pooler stands in front of it; then the direct connection.
    ///
    /// - Throws: ``GreyoakError/Code/usage`` when no direct URL was given, or it is pooled too.
    private func sessionConnection(for what: @autoclosure () -> String) throws -> Connection {
        guard connection.pooled else { return connection }
        if let directConnection { return directConnection }
        guard let direct = connection.settings.direct else {
            throw GreyoakError(.usage, """
                \(connection.settings) is a connection pooler, and \(what()) needs a session of its own, which a \
                transaction pooler does not keep; nothing was changed
                """, hint: "give the server's own address with --direct-url or GREYOAK_DIRECT_URL (the pooler's stays for the rest)")
        }
        let session = try Connection(direct, logger: logger)
        guard !session.pooled else {
            throw GreyoakError(.usage, "the direct URL \(direct) leads to a connection pooler too; nothing was changed",
                               hint: "--direct-url / GREYOAK_DIRECT_URL must name the PostgreSQL server itself")
        }
        directConnection = session
        return session
    }

    /// Connects what the steps will need a session for before anything changes, or stops.
    private func requireSessions(for steps: [MigrationStep]) throws {
        let sessionBound = steps.filter { !$0.migration.transactional }.map(\.migration.revision)
        if !sessionBound.isEmpty {
            _ = try sessionConnection(for: "the non-transactional migration \(sessionBound.joined(separator: ", ")) (-- Transactional: no)")
        }
        if backupDirectory != nil && !steps.isEmpty { _ = try sessionConnection(for: "pg_dump (--backup)") }
    }

    /// Runs the steps with a lock watcher, after the backup when one was asked for.
    private func runAll(_ steps: [MigrationStep], from current: [String]) throws {
        guard !steps.isEmpty else { return }
        if let backupDirectory {
            let path = try DatabaseBackup.dump(sessionConnection(for: "pg_dump (--backup)"), into: backupDirectory, revision: current,
                                               lockWaitSeconds: lockTimeout, recipients: backupRecipients, logger: logger)
            try connection.transaction {
                try AuditLog.create(connection)
                try AuditLog.record(connection, revision: current.first ?? "base", operation: "backup", before: current,
                                    after: current, checksum: nil, started: Date(), notes: path)
            }
        }
        let watcher = BlockingSessionWatcher(settings: connection.settings, logger: logger)
        watcher.watch([connection.backendPID] + (directConnection.map { [$0.backendPID] } ?? []))
        self.watcher = watcher
        defer {
            watcher.stop()
            self.watcher = nil
        }
        try steps.forEach(run)
    }

    private func run(_ step: MigrationStep) throws {
        let migration = step.migration
        let direction = step.isUpgrade ? "upgrade" : "downgrade"
        logger.info("Running \(Self.describe(step))")
        let started = Date()
        let timeout = migration.lockTimeout ?? lockPolicy.timeout
        retries = 0
        let record = {
            for change in step.versionChanges { try VersionTable.apply(change, self.connection) }
            try AuditLog.record(self.connection, revision: migration.revision, operation: direction,
                                before: step.headsBefore, after: step.headsAfter,
                                checksum: migration.checksum, started: started, lockRetries: self.retries)
        }
        do {
            if migration.transactional {
                // The whole migration is one attempt: on a lock timeout it rolls back and runs again.
                try retryingLockTimeouts(step) {
                    try connection.transaction {
                        // SET LOCAL: a RESET in the file returns to the session's default, which
                        // the connection's startup packet set to --ddl-lock-timeout.
                        try connection.execute("SET LOCAL lock_timeout = '\(timeout.milliseconds)ms'")
                        try VersionTable.create(connection)
                        try AuditLog.create(connection)
                        try execute(step)
                        try record()
                    }
                }
            } else {
                try connection.transaction {
                    try VersionTable.create(connection)
                    try AuditLog.create(connection)
                }
                // A session setting on a session greyoak holds for it: the direct one behind a pooler.
                let session = try sessionConnection(for: "the non-transactional migration \(migration.revision)")
                try session.execute("SET lock_timeout = '\(timeout.milliseconds)ms'")
                defer { _ = try? session.execute("RESET lock_timeout") }
                // Statement by statement: the ones that ran stay, so only the one that timed out runs again.
                let statements = migration.statements(upgrade: step.isUpgrade)
                for index in statements.indices {
                    var attempt = 0
                    try retryingLockTimeouts(step) {
                        if attempt > 0 { try dropInvalidIndex(left: statements[index], step: step, index: index, on: session) }
                        attempt += 1
                        try execute(step, only: index, on: session)
                    }
                }
                try connection.transaction(record)
            }
        } catch var failure as MigrationFailure where failure.lockWait != nil {
            failure.lockWait?.seconds = Date().timeIntervalSince(started)
            let notes = failure.lockWait?.description
            // Its own transaction: the migration's rolled back, but the attempt is worth keeping.
            try? connection.transaction {
                try AuditLog.record(connection, revision: migration.revision, operation: "lock-timeout",
                                    before: step.headsBefore, after: step.headsBefore, checksum: migration.checksum,
                                    started: started, lockRetries: retries, notes: notes)
            }
            throw failure
        }
    }

    /// Runs `attempt`; after a lock timeout waits a backoff and runs it again, up to the
    /// policy's retries (counted across the whole migration).
    ///
    /// - Throws: The ``MigrationFailure`` of the last attempt, with ``LockWait`` filled in
    ///   when the retries ran out.
    private func retryingLockTimeouts(_ step: MigrationStep, _ attempt: () throws -> Void) throws {
        while true {
            do {
                try attempt()
                return
            } catch var failure as MigrationFailure where LockRetryPolicy.isLockTimeout(failure.error) {
                let blockers = watcher?.takeBlockers() ?? []
                let timeout = step.migration.lockTimeout ?? lockPolicy.timeout
                guard retries < lockPolicy.retries else {
                    failure.lockWait = LockWait(attempts: retries + 1, timeout: timeout, blockers: blockers, seconds: 0)
                    throw failure
                }
                retries += 1
                let delay = lockPolicy.delay(beforeRetry: retries)
                let rolledBack = step.migration.transactional ? "rolled back" : "statement cancelled"
                logger.warning("""
                    lock timeout (\(timeout)) at \(step.migration.path):\(failure.statement.line), \
                    \(BlockingSessions.describe(blockers)); \(rolledBack), retry \(retries) of \(lockPolicy.retries) \
                    in \(String(format: "%.1f", delay)) s
                    """)
                SystemRetryClock().sleep(delay)
            }
        }
    }

    /// A `CREATE INDEX CONCURRENTLY` cancelled by `lock_timeout` (it waits for every older
    /// transaction) leaves an INVALID index of its name, and running it again would fail
    /// with "already exists": drop that index first. Its own lock wait is bounded and retried
    /// like the statement's.
    private func dropInvalidIndex(left statement: SQLSplitter.Statement, step: MigrationStep, index: Int, on connection: Connection) throws {
        guard statement.text.range(of: "CONCURRENTLY", options: .caseInsensitive) != nil,
              let name = StatementLocks.classify(statement.text).builds.first, !name.hasPrefix("an index on ") else { return }
        let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        do {
            let invalid = try connection.execute("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", [quoted])
            guard invalid.column.first == "t" else { return }
            logger.info("dropping the invalid index \(name) that the timed-out attempt left")
            try connection.execute("DROP INDEX CONCURRENTLY IF EXISTS \(quoted)")
        } catch {
            throw MigrationFailure(step: step, statementIndex: index, statementCount: step.migration.statements(upgrade: step.isUpgrade).count,
                                   statement: statement, error: error.during("dropping the invalid index \(name) a timed-out attempt left"))
        }
    }

    private func execute(_ step: MigrationStep, only: Int? = nil, on session: Connection? = nil) throws {
        let connection = session ?? connection
        let migration = step.migration
        let statements = migration.statements(upgrade: step.isUpgrade)
        for (index, statement) in statements.enumerated() where only == nil || only == index {
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
public struct MigrationFailure: CodedFailure, CustomStringConvertible {
    public let step: MigrationStep
    public let statementIndex: Int
    public let statementCount: Int
    public let statement: SQLSplitter.Statement
    public let error: PostgresError
    /// Set when the statement kept timing out on a lock and the retries ran out.
    public var lockWait: LockWait?

    /// The kind of failure, for the exit status: a lock that never came is status 6.
    public var code: GreyoakError.Code { lockWait == nil ? .failure : .lockTimeout }

    public var description: String {
        let migration = step.migration
        let before = step.headsBefore.isEmpty ? "<base>" : step.headsBefore.joined(separator: ", ")
        var text = """
            \(step.isUpgrade ? "upgrade" : "downgrade") \(migration.revision) failed at \(migration.path):\(statement.line), \
            statement \(statementIndex + 1) of \(statementCount):
              \(Connection.abbreviate(statement.text))
              \(error.description.replacingOccurrences(of: "\n", with: "\n  "))
            """
        if let lockWait {
            text += "\n\(lockWait)"
        }
        if migration.transactional {
            text += "\nThe migration was rolled back: the database is still at \(before)."
        } else if statementIndex > 0 {
            text += "\nThis migration is non-transactional: its first \(statementIndex) statement(s) stay applied, and alembic_version still says \(before). Fix the cause, undo or complete them by hand, then run the command again."
        } else {
            text += "\nNothing of this migration was applied: the database is still at \(before)."
        }
        if let lockWait {
            text += "\n  hint: \(BlockingSessions.hint(lockWait.blockers)), or raise --ddl-lock-timeout / --ddl-retries"
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
