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
    /// A partitioned `scores` whose new partitions this load makes; nil otherwise.
    private let attach: AttachPlan?
    /// The last pass's rows of new partitions, and the partitions.
    private var spool: AttachSpool?
    private var newPartitions: [AttachSpool.Partition] = []
    private var attachDuplicates: DuplicateFilter?
    /// The loaders of this attempt's passes: the tables they made are dropped if the load
    /// ends before its commit point.
    private var loaders: [AttachLoader] = []
    /// Once ``buildPartitions()`` has begun.
    private var builder: AttachBuilder?
    /// The build's phases, once it is done.
    private var timings: AttachBuilder.Timings?
    private var attachSeconds: Double?
    private var committed = false

    init(coordinator: Connection, locks: LockSession, writers: WriterPool, commit: LoadCommit?, stages: PipelineStages,
         attach: AttachPlan? = nil) {
        self.attach = attach
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
        // A load that did not commit leaves no table of new partitions (a committed one's
        // were renamed by its attach: dropping the standalone names finds nothing).
        if !committed { dropNewPartitions() }
        loaders.forEach { $0.close() }
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
        // Each pass keeps its own rows of new partitions; an abandoned pass's tables go.
        dropNewPartitions()
        spool = nil
        if let attach, attach.makesPartitions, let commitPoint {
            // With a default partition nothing is created before it is checked (buildPartitions).
            let loader = AttachLoader(load: commitPoint.load, layout: attach.layout, settings: attach.settings, writers: attach.writers,
                                      startsPaused: attach.layout.defaultPartition != nil, logger: logger)
            let spool = try AttachSpool(layout: attach.layout) { loader.sealed($0) }
            loader.attach(spool)
            loaders.append(loader)
            self.spool = spool
        }
        var outcome: StreamOutcome
        switch route {
        case let .probe(allowDirect):
            let probe = LoadedDatesProbe(coordinator, locks: locks, logger: logger)
            self.probe = probe
            outcome = stages.run(into: writers.writers, probe: probe, allowDirect: allowDirect, inMemory: dryRunCheck, spool: spool)
        case .staging:
            outcome = stages.run(into: writers.writers, probe: nil, inMemory: dryRunCheck, spool: spool)
        }
        newPartitions = outcome.newPartitions
        attachDuplicates = outcome.attachDuplicates
        return outcome
    }

    /// Loads and indexes the new partitions (see ``AttachBuilder``), after checking that no
    /// default partition holds rows of their ranges (an ATTACH would fail on them).
    func buildPartitions() throws -> (inserted: Int, duplicate: String?) {
        guard let attach, let loader = loaders.last else { preconditionFailure("no partitions to build") }
        progress.set(phase: "loading new partitions")
        try attach.checkDefaultPartition(coordinator, newPartitions)
        let builder = AttachBuilder(loader: loader, partitions: newPartitions, logger: logger)
        self.builder = builder
        do {
            let (removed, timings) = try builder.build(coordinator: coordinator, keepLast: options.onDuplicate == .last ? attachDuplicates : nil)
            self.timings = timings
            logger.debug("\(newPartitions.count) new partition(s) loaded and indexed (\(builder.rows - removed) rows): COPY \(String(format: "%.2f", timings.copySeconds)) s, indexes \(String(format: "%.2f", timings.indexSeconds)) s")
            return (builder.rows - removed, nil)
        } catch let duplicate as AttachBuilder.DuplicateKey {
            return (0, duplicate.error.detail ?? duplicate.error.message)
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
        progress.set(phase: builder == nil ? "committing" : "attaching")
        let started = Date()
        let statement = builder.map { AttachSQL.attach($0.attachList, policy: attach!.lockPolicy) }
        try writers.commit(with: commitPoint, summary: summary, attach: statement)
        committed = true
        if builder != nil { attachSeconds = Date().timeIntervalSince(started) }
    }

    func afterCommit(_ summary: IngestSummary) -> IngestSummary {
        var summary = summary
        summary.attachSeconds = attachSeconds
        return summary
    }

    func rollBack(refused: Bool) {
        writers.rollback()
        dropNewPartitions()
        // A refused run loaded nothing, so a rejects file would only mislead.
        if refused, let path = options.rejectsPath, options.maxErrors != nil { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Drops the tables of new partitions this attempt made: it ends before its commit point.
    func dropNewPartitions() {
        for loader in loaders {
            loader.stop()
            for table in loader.made { _ = try? coordinator.execute("DROP TABLE IF EXISTS \(table)") }
            loader.close()
        }
        loaders = []
        builder = nil
    }

    func rollBackNoCommit() {
        writers.rollback()
        dropNewPartitions()
        if let commitPoint { LoadJournal.rolledBack(commitPoint.coordinator, commitPoint.load, reason: "--no-commit") }
    }

    func timed(_ summary: IngestSummary) -> IngestSummary {
        var summary = summary
        summary.seconds = progress.snapshot.elapsed
        summary.rowsPerSecond = Double(summary.rowsRead) / max(summary.seconds, 1e-9)
        if let timings {
            summary.newPartitions = newPartitions.count
            summary.copySeconds = timings.copySeconds
            summary.indexSeconds = timings.indexSeconds
        }
        return summary
    }
}
