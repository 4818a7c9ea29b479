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
        let deadline = Date().addingTimeInterval(options.connectRetry)
        var delay = 0.5
        while true {
            do {
                return try attempt(connectRetry: max(0, deadline.timeIntervalSinceNow))
            } catch where !reachedCommitPoint && TransientFailure.matches(error) && Date() < deadline {
                logger.warning("the load failed before its commit point, nothing of it committed (\(error)); starting again in \(delay) s")
                Thread.sleep(forTimeInterval: min(delay, max(0, deadline.timeIntervalSinceNow)))
                delay = min(delay * 2, 4)
                progress.restart()
            }
        }
    }

    /// Set once the run reaches its commit: from there on nothing is retried.
    private var reachedCommitPoint = false

    private func attempt(connectRetry: Double) throws -> IngestSummary {
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
        // The gate: nothing is read before the database is known to be at head.
        if options.autoMigrate {
            try Migrator(graph: graph, connection: coordinator, housekeeping: IngestHousekeeping(), logger: logger,
                         lockTimeout: options.lockTimeout).upgrade(to: "heads")
        }
        let locks = try LockSession(for: coordinator, logger: logger)
        defer { locks.close() }
        try SchemaLock.acquire(locks, mode: .shared, timeout: options.lockTimeout, logger: logger)
        try Migrator(graph: graph, connection: coordinator, housekeeping: IngestHousekeeping(), logger: logger).requireAtHead()
        // Who blocks the coordinator or a writer is only visible while it waits.
        let watcher = BlockingSessionWatcher(settings: settings, logger: logger, startAfter: min(0.25, options.lockTimeout / 4))
        watcher.watch([coordinator.backendPID])
        defer { watcher.stop() }
        do {
            guard !options.dryRun else {
                try writers.connect()
                summary.writers = writers.count
                guard case let .done(summary) = try load(coordinator, locks: locks, writers: writers, summary: summary,
                                                         route: .staging, commit: nil) else {
                    preconditionFailure("a dry run has no direct or compare mode to give up")
                }
                return summary
            }
            // Interrupted loads are resolved before this one starts, and this one is journalled
            // before it sends a row (see LoadRecovery, LoadJournal).
            try Bookkeeping.requireForLoad(coordinator, IngestHousekeeping())
            try LoadRecovery(connection: coordinator, logger: logger).run()
            let distribution = try TableDistribution.ofScores(coordinator)
            try distribution.prepareSession(coordinator)
            let stagesInShards = try SharedStaging.followScores(coordinator, logger: logger)
            // The writers' handshakes overlapped the gate and the recovery above.
            try writers.connect()
            watcher.watch([coordinator.backendPID] + writers.backendPIDs)
            let (method, count) = try CommitMethod.choose(coordinator, writers: writers.count, distribution: distribution, logger: logger)
            writers.keep(count, twoPhase: method == .twoPhase, distribution: distribution, stagesInShards: stagesInShards)
            summary.writers = writers.count
            let load = try LoadJournal.begin(coordinator, locks: locks, input: LoadJournal.describe(files), method: method,
                                             writers: writers.count)
            let commit = LoadCommit(coordinator: coordinator, locks: locks, method: method, logger: logger, settings: settings,
                                    load: load, ledgerEntry: options.ledgerEntry)
            do {
                // The direct path and the comparison may have to start again: the input is read
                // again (standard input from its kept copy).
                var routes: [Route] = [.probe(allowDirect: true), .probe(allowDirect: false), .staging]
                while true {
                    let route = routes.removeFirst()
                    switch try self.load(coordinator, locks: locks, writers: writers, summary: summary, route: route, commit: commit) {
                    case let .done(summary): return summary
                    case .again(after: .compare): routes.removeAll { $0 != .staging }
                    case .again: break
                    }
                    try writers.reopen()
                }
            } catch let error as LoadCommit.OutcomeRecorded {
                throw error.error
            } catch {
                LoadJournal.rolledBack(coordinator, commit.load, reason: "\(error)")
                throw error
            }
        } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable {
            writers.rollback()
            let blockers = watcher.takeBlockers()
            throw GreyoakError(.lockTimeout, """
                nothing was loaded: a lock was not obtained within --lock-timeout \(options.lockTimeout) s \
                (\(error.activity ?? "loading")); \(BlockingSessions.describe(blockers))
                """, hint: BlockingSessions.hint(blockers) + ", or raise --lock-timeout")
        }
    }

    /// A dry run's second pass, when its first one screened keys that may repeat: the input
    /// again, remembering exactly just those keys (every key, past the screen's limit).
    private func recheck(_ screen: KeyScreen) -> StreamOutcome? {
        guard screen.overflowed || !screen.candidates.isEmpty else { return nil }
        logger.info(screen.overflowed
            ? "more than \(KeyScreen.maxCandidates) keys may occur more than once; reading the input again to check every key"
            : "\(screen.candidates.count) key(s) may occur more than once; reading the input again to check them")
        progress.restart()
        return stages.run(into: [], probe: nil, inMemory: .exact(candidates: screen.overflowed ? nil : screen.candidates))
    }

    /// How a dry run's first pass looks for repeated keys: screened, in fixed memory (see
    /// ``InMemoryDuplicateCheck``); nil for a load.
    private var dryRunCheck: InMemoryDuplicateCheck? {
        guard options.dryRun else { return nil }
        return .screen
    }

    /// How an attempt picks its ``LoadMode``.
    private enum Route: Equatable {
        /// The ``LoadedDatesProbe`` picks from the first rows' dates: direct (if allowed) or
        /// compare.
        case probe(allowDirect: Bool)
        case staging
    }

    /// What one attempt came to.
    private enum Attempt {
        case done(IngestSummary)
        /// The attempt in this mode gave up (nothing of it committed); the next route goes on.
        case again(after: LoadMode)
    }

    /// One attempt at the load.
    private func load(_ coordinator: Connection, locks: LockSession, writers: WriterPool, summary: IngestSummary,
                      route: Route, commit: LoadCommit?) throws -> Attempt {
        var summary = summary
        let probe = LoadedDatesProbe(coordinator, locks: locks, logger: logger)
        var outcome = switch route {
        case let .probe(allowDirect): stages.run(into: writers.writers, probe: probe, allowDirect: allowDirect, inMemory: dryRunCheck)
        case .staging: stages.run(into: writers.writers, probe: nil, inMemory: dryRunCheck)
        }
        if outcome.fatal == nil, let screen = outcome.screen, let again = recheck(screen) { outcome = again }
        defer { if probe.holdsLoadLock { probe.releaseLoadLock() } }
        // The writers keep their connections; attempt() reopens them for the next route.
        if outcome.mode == .direct, let error = outcome.fatal as? PostgresError, error.sqlState == SQLState.uniqueViolation {
            logger.info("a key is in scores already or twice in the input (\(error.detail ?? error.message)); loading again, comparing with scores")
            progress.restart()
            return .again(after: .direct)
        }
        if outcome.mode == .compare, let abandoned = outcome.fatal as? ExistingRows.Abandoned {
            logger.info("\(abandoned); loading again through the staging table")
            progress.restart()
            return .again(after: .compare)
        }
        summary.rowsRead = outcome.rowsRead
        summary.rejected = outcome.rejected
        func finish(_ outcome: IngestSummary.Outcome) -> IngestSummary {
            summary.outcome = outcome
            summary.seconds = progress.snapshot.elapsed
            summary.rowsPerSecond = Double(summary.rowsRead) / max(summary.seconds, 1e-9)
            return summary
        }
        func refuse(_ code: GreyoakError.Code, _ message: String, errors: [RowError], count: Int, hint: String? = nil) -> IngestFailure {
            writers.rollback()
            // A refused run loaded nothing, so a rejects file would only mislead.
            if let path = options.rejectsPath, options.maxErrors != nil { try? FileManager.default.removeItem(atPath: path) }
            return IngestFailure(code: code, message: message, errors: errors, errorCount: count, summary: finish(.rolledBack), hint: hint)
        }

        if let fatal = outcome.fatal {
            if let row = fatal as? RowError {
                throw refuse(.invalidInput, "nothing was loaded: \(row.file) cannot be read past this point",
                             errors: outcome.errors + [row], count: outcome.errorCount + 1)
            }
            writers.rollback()
            throw fatal
        }
        let allowed = options.maxErrors ?? 0
        if outcome.rejected > allowed {
            let message = options.maxErrors == nil
                ? "nothing was loaded: \(outcome.rejected) of \(outcome.rowsRead) rows are invalid"
                : "nothing was loaded: \(outcome.rejected) rows are invalid, more than --max-errors \(allowed)"
            throw refuse(.invalidInput, message, errors: outcome.errors, count: outcome.errorCount,
                         hint: options.maxErrors == nil ? "fix the files, or load the good rows with --max-errors N --rejects FILE" : nil)
        }
        if options.dryRun {
            summary.unchanged = 0
            logger.info("dry run: \(outcome.rowsRead - outcome.rejected) rows are valid; nothing was sent to the database")
            return .done(finish(.dryRun))
        }
        if outcome.mode == .direct {
            summary.inserted = writers.stagedRows
            return .done(try self.commit(writers, with: commit!, finish: finish))
        }

        progress.set(phase: "checking duplicates")
        let duplicates = try writers.duplicates(policy: options.onDuplicate, filter: outcome.duplicates, limit: options.maxReport)
        if duplicates.total > 0 {
            throw refuse(.invalidInput, "nothing was loaded: \(duplicates.total) key(s) appear more than once",
                         errors: Array(duplicates.groups.prefix(options.maxReport).map { $0.rowError(files: files) }),
                         count: duplicates.total, hint: "keep the last occurrence with --on-duplicate last")
        }

        progress.set(phase: "upserting")
        let loadLock = try LoadLock.acquire(locks, logger: logger)
        defer { LoadLock.release(locks, loadLock) }
        let counts = try writers.upsert()
        summary.inserted += counts.inserted
        summary.updated += counts.updated
        summary.unchanged = outcome.unchanged + writers.stagedRows - summary.inserted - summary.updated
        return .done(try self.commit(writers, with: commit!, finish: finish))
    }

    /// Commits every writer at one commit point (see ``LoadCommit``), or rolls all back for
    /// `--no-commit`.
    private func commit(_ writers: WriterPool, with commit: LoadCommit, finish: (IngestSummary.Outcome) -> IngestSummary) throws -> IngestSummary {
        if options.noCommit {
            writers.rollback()
            LoadJournal.rolledBack(commit.coordinator, commit.load, reason: "--no-commit")
            return finish(.rolledBackNoCommit)
        }
        progress.set(phase: "committing")
        reachedCommitPoint = true
        let summary = finish(.committed)
        try writers.commit(with: commit, summary: summary)
        return summary
    }
}
