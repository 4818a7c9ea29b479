import Foundation
import Logging
import GreyoakPostgres

/// The pipeline's ``LoadEffects``: what the ``LoadStateMachine``'s actions do with the
/// coordinator connection, the writers and the stages. Used on the coordinator's thread.
///
/// It holds the ``LoadLock`` from the pass that probed (or the upsert) to the end of the
/// attempt: ``end()`` releases it.
final class AttemptEffects: LoadEffects {
    private let coordinator: Connection
    private let locks: LockSession
    private let writers: WriterPool
    /// Nil for a dry run.
    private let commitPoint: LoadCommit?
    private let stages: PipelineStages
    private let options: IngestOptions
    private let progress: IngestProgress
    private let logger: Logger
    /// The probe of the last pass, which may hold the load lock.
    private var probe: LoadedDatesProbe?
    /// The upsert's ``LoadLock`` savepoint while it is held.
    private var loadLock: Int?

    init(coordinator: Connection, locks: LockSession, writers: WriterPool, commit: LoadCommit?, stages: PipelineStages) {
        self.coordinator = coordinator
        self.locks = locks
        self.writers = writers
        commitPoint = commit
        self.stages = stages
        options = stages.options
        progress = stages.progress
        logger = stages.logger
    }

    /// Releases the load lock, if this attempt took it: the upsert's, then the probe's.
    func end() {
        if let loadLock { LoadLock.release(locks, loadLock) }
        loadLock = nil
        releaseProbe()
    }

    private func releaseProbe() {
        if let probe, probe.holdsLoadLock { probe.releaseLoadLock() }
        probe = nil
    }

    /// How a dry run's first pass looks for repeated keys: screened, in fixed memory (see
    /// ``InMemoryDuplicateCheck``); nil for a load.
    private var dryRunCheck: InMemoryDuplicateCheck? { options.dryRun ? .screen : nil }

    func runPass(_ route: LoadStateMachine.Route, again: String?) throws -> StreamOutcome {
        releaseProbe()
        if let again {
            logger.info("\(again)")
            progress.restart()
            // The writers keep their connections: rolled back, they stage the same rows again.
            try writers.reopen()
        }
        switch route {
        case let .probe(allowDirect):
            let probe = LoadedDatesProbe(coordinator, locks: locks, logger: logger)
            self.probe = probe
            return stages.run(into: writers.writers, probe: probe, allowDirect: allowDirect, inMemory: dryRunCheck)
        case .staging:
            return stages.run(into: writers.writers, probe: nil, inMemory: dryRunCheck)
        }
    }

    /// A dry run's second pass, when its first one screened keys that may repeat: the input
    /// again, remembering exactly just those keys (every key, past the screen's limit).
    func recheck(_ screen: KeyScreen) -> StreamOutcome {
        logger.info(screen.overflowed
            ? "more than \(KeyScreen.maxCandidates) keys may occur more than once; reading the input again to check every key"
            : "\(screen.candidates.count) key(s) may occur more than once; reading the input again to check them")
        progress.restart()
        return stages.run(into: [], probe: nil, inMemory: .exact(candidates: screen.overflowed ? nil : screen.candidates))
    }

    var stagedRows: Int { writers.stagedRows }

    func duplicates(_ filter: DuplicateFilter?) throws -> (total: Int, errors: [RowError]) {
        progress.set(phase: "checking duplicates")
        let found = try writers.duplicates(policy: options.onDuplicate, filter: filter, limit: options.maxReport)
        return (found.total, found.groups.prefix(options.maxReport).map { $0.rowError(files: stages.files) })
    }

    func upsert() throws -> (inserted: Int, updated: Int) {
        progress.set(phase: "upserting")
        loadLock = try LoadLock.acquire(locks, logger: logger)
        return try writers.upsert()
    }

    /// Commits every writer at one commit point (see ``LoadCommit``).
    func commit(_ summary: IngestSummary) throws {
        guard let commitPoint else { preconditionFailure("a dry run commits nothing") }
        progress.set(phase: "committing")
        try writers.commit(with: commitPoint, summary: summary)
    }

    func rollBack(refused: Bool) {
        writers.rollback()
        // A refused run loaded nothing, so a rejects file would only mislead.
        if refused, let path = options.rejectsPath, options.maxErrors != nil { try? FileManager.default.removeItem(atPath: path) }
    }

    func rollBackNoCommit() {
        writers.rollback()
        if let commitPoint { LoadJournal.rolledBack(commitPoint.coordinator, commitPoint.load, reason: "--no-commit") }
    }

    func timed(_ summary: IngestSummary) -> IngestSummary {
        var summary = summary
        summary.seconds = progress.snapshot.elapsed
        summary.rowsPerSecond = Double(summary.rowsRead) / max(summary.seconds, 1e-9)
        return summary
    }
}
