import Foundation
import Logging
import GreyoakPostgres
import GreyoakMigrations

/// `greyoak ingest`: schema gate → read → parse → validate → COPY into staging → upsert.
///
/// The run itself: the gate, the attempts (straight into `scores` when it can, else, or
/// again, through the staging table), the verdict on what the stages found, and the upsert
/// and commit. The stages are wired in ``PipelineStages``; the writer connections are a
/// ``WriterPool``.
///
/// The coordinator's ``LockSession`` holds the shared ``SchemaLock`` for the whole run
/// (migrations take it exclusively), the load's journal lock, and, for the upsert and commit,
/// the ``LoadLock`` that serialises greyoak runs with each other. Every use of the
/// coordinator and its locks stays on the thread that calls ``run()``.
public final class IngestPipeline {
    let options: IngestOptions
    let settings: ConnectionSettings
    let graph: RevisionGraph
    let logger: Logger
    public let progress: IngestProgress
    let files: [InputFile]
    /// Standard input, kept so that it can be read again like a file (see ``StdinSpool``).
    let spool: StdinSpool?

    public init(options: IngestOptions, settings: ConnectionSettings, graph: RevisionGraph, logger: Logger) throws {
        self.options = options
        self.settings = settings
        self.graph = graph
        self.logger = logger
        files = try InputFile.expandSome(options.paths, format: options.format)
        spool = files.contains { $0.path == nil } ? try StdinSpool() : nil
        progress = IngestProgress(totalFiles: files.count, totalBytes: IngestProgress.totalBytes(of: files))
    }

    private var stages: PipelineStages {
        PipelineStages(files: files, spool: spool, options: options, progress: progress, logger: logger)
    }

    /// Runs the whole load.
    ///
    /// - Returns: The summary of a run that committed (or, for `--dry-run` and
    ///   `--no-commit`, would have).
    /// - Throws: ``IngestFailure`` for invalid input (nothing written), ``GreyoakError``
    ///   for the schema gate, locks and connections, ``PostgresError`` for the database.
    ///
    /// A transient failure (see ``TransientFailure``) before the commit point starts the load
    /// again from the start, for up to `--connect-retry` seconds (standard input from its kept
    /// copy, then on where the copy ends).
    public func run() throws -> IngestSummary {
        var retry = RetryDeadline(Self.restartBackoff, seconds: options.connectRetry)
        while true {
            var reachedCommitPoint = false
            do {
                return try attempt(connectRetry: retry.remaining, reachedCommitPoint: &reachedCommitPoint)
            } catch where !reachedCommitPoint && TransientFailure.matches(error) && !retry.isExhausted {
                let delay = retry.backoff.delay(beforeRetry: retry.retries + 1)
                logger.warning("the load failed before its commit point, nothing of it committed (\(error)); starting again in \(delay) s")
                _ = retry.pause()
                progress.restart()
            }
        }
    }

    /// The pauses between attempts at the whole load.
    static let restartBackoff = Backoff(initial: 0.5, maximum: 4)

    /// One attempt at the load, from connecting to the verdict.
    private func attempt(connectRetry: Double, reachedCommitPoint: inout Bool) throws -> IngestSummary {
        var summary = IngestSummary()
        summary.files = files.count

        // Every lock wait of the load (the load lock, rows and tables) ends after
        // --lock-timeout: lock_timeout is each session's default from its startup packet.
        let bounded = settings.lockTimeout(milliseconds: Int((options.lockTimeout * 1000).rounded()))
        // The coordinator connects first: on a server with few free connections it must get
        // one, while the run can do with fewer writers than asked for.
        let coordinator = try TransientFailure.connect(bounded.named("coordinator"), logger: logger, retryFor: connectRetry)
        defer { coordinator.close() }
        // Writers connect while the coordinator checks the gate; none writes before it passed.
        let writers = WriterPool(count: options.dryRun ? 0 : options.writers, settings: bounded, logger: logger)
        defer { writers.close() }
        if options.autoMigrate {
            try Migrator(graph: graph, connection: coordinator, housekeeping: IngestHousekeeping(), logger: logger,
                         lockTimeout: options.lockTimeout).upgrade(to: "heads")
        }
        let locks = try LockSession(for: coordinator, logger: logger)
        defer { locks.close() }
        try gate(coordinator, locks: locks)
        // Who blocks the coordinator or a writer is only visible while it waits.
        let watcher = BlockingSessionWatcher(settings: settings, logger: logger, startAfter: min(0.25, options.lockTimeout / 4))
        watcher.watch([coordinator.backendPID])
        defer { watcher.stop() }
        do {
            guard !options.dryRun else {
                try writers.connect()
                summary.writers = writers.count
                return try drive(summary, AttemptEffects(coordinator: coordinator, locks: locks, writers: writers, commit: nil, stages: stages),
                                 reachedCommitPoint: &reachedCommitPoint)
            }
            return try load(coordinator, locks: locks, writers: writers, watcher: watcher, summary: summary, bounded: bounded,
                            reachedCommitPoint: &reachedCommitPoint)
        } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable {
            writers.rollback()
            let blockers = watcher.takeBlockers()
            // The attach of new partitions waits as a migration does (AttachSQL.attach), not by --lock-timeout.
            let attach = error.message.hasPrefix(AttachSQL.gaveUp)
            let what = attach ? error.message : "a lock was not obtained within --lock-timeout \(options.lockTimeout) s (\(error.activity ?? "loading"))"
            throw GreyoakError(.lockTimeout, "nothing was loaded: \(what); \(BlockingSessions.describe(blockers))",
                               hint: BlockingSessions.hint(blockers) + (attach ? "" : ", or raise --lock-timeout"))
        }
    }

    /// The gate: nothing is read before the database is known to be at head.
    private func gate(_ coordinator: Connection, locks: LockSession) throws {
        try SchemaLock.acquire(locks, mode: .shared, timeout: options.lockTimeout, logger: logger)
        try Migrator(graph: graph, connection: coordinator, housekeeping: IngestHousekeeping(), logger: logger).requireAtHead()
    }

    /// A load past the gate: recovery of interrupted loads, the commit method, the journal,
    /// then the passes, the verdict and the commit.
    private func load(_ coordinator: Connection, locks: LockSession, writers: WriterPool, watcher: BlockingSessionWatcher,
                      summary: IngestSummary, bounded: ConnectionSettings, reachedCommitPoint: inout Bool) throws -> IngestSummary {
        var summary = summary
        // Interrupted loads are resolved before this one starts, and this one is journalled
        // before it sends a row (see LoadRecovery, LoadJournal).
        try Bookkeeping.requireForLoad(coordinator, IngestHousekeeping())
        try LoadRecovery(connection: coordinator, logger: logger).run()
        let distribution = try TableDistribution.ofScores(coordinator)
        try distribution.prepareSession(coordinator)
        let stagesInShards = try SharedStaging.followScores(coordinator, logger: logger)
        let attach = try AttachPlan.make(coordinator, options: options, distribution: distribution, settings: bounded, logger: logger)
        // The writers' handshakes overlapped the gate and the recovery above.
        try writers.connect()
        watcher.watch([coordinator.backendPID] + writers.backendPIDs)
        var (method, count) = try CommitMethod.choose(coordinator, writers: writers.count, distribution: distribution, logger: logger)
        if method == .twoPhase, attach?.makesPartitions == true, let name = attach?.layout.defaultPartition {
            // The attach takes ACCESS EXCLUSIVE on the default partition in the decision's
            // transaction, and would wait for prepared writers that read or wrote it.
            logger.debug("scores has a default partition (\(name)): loading in one transaction, so that the attach of new partitions does not wait for the writers' prepared transactions")
            (method, count) = (.oneTransaction, 1)
        }
        writers.keep(count, twoPhase: method == .twoPhase, distribution: distribution, stagesInShards: stagesInShards)
        summary.writers = writers.count
        let load = try LoadJournal.begin(coordinator, locks: locks, input: LoadJournal.describe(files), method: method,
                                         writers: writers.count)
        let commit = LoadCommit(coordinator: coordinator, locks: locks, method: method, logger: logger, settings: settings,
                                load: load, ledgerEntry: options.ledgerEntry)
        do {
            return try drive(summary, AttemptEffects(coordinator: coordinator, locks: locks, writers: writers, commit: commit, stages: stages,
                                                     attach: attach),
                             reachedCommitPoint: &reachedCommitPoint)
        } catch let error as LoadCommit.OutcomeRecorded {
            throw error.error
        } catch let error as PostgresError where attach?.noPartition(error) != nil {
            LoadJournal.rolledBack(coordinator, commit.load, reason: "\(error)")
            throw attach!.noPartition(error)!
        } catch {
            LoadJournal.rolledBack(coordinator, commit.load, reason: "\(error)")
            throw error
        }
    }

    /// Runs the attempt's ``LoadStateMachine`` with `effects`.
    private func drive(_ summary: IngestSummary, _ effects: AttemptEffects, reachedCommitPoint: inout Bool) throws -> IngestSummary {
        var machine = LoadStateMachine(summary: summary, dryRun: options.dryRun, noCommit: options.noCommit, maxErrors: options.maxErrors)
        defer {
            effects.end()
            reachedCommitPoint = machine.reachedCommitPoint
        }
        let result = try LoadDriver.run(&machine, effects)
        if options.dryRun {
            logger.info("dry run: \(result.rowsRead - result.rejected) rows are valid; nothing was sent to the database")
        }
        return result
    }
}
