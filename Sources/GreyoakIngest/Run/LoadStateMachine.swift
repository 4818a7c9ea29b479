import GreyoakPostgres

/// The coordination of one load attempt, as a value: the passes over the input, the
/// fallbacks between them (direct → compare → staging), the verdict on what a pass found,
/// the commit point and the outcome.
///
/// Modelled on postgres-nio's `ConnectionStateMachine`: each event is a `mutating func`
/// that returns the ``Action`` to perform; the I/O code (``LoadDriver``) performs it and
/// feeds what came of it back as the next event. Nothing here touches a connection, a
/// thread or the clock, so tests drive it directly.
struct LoadStateMachine {
    /// How a pass picks its ``LoadMode``.
    enum Route: Equatable, Sendable {
        /// The ``LoadModeProbe`` picks from the first rows' dates: direct (if allowed) or
        /// compare.
        case probe(allowDirect: Bool)
        case staging
    }

    enum Action {
        /// A pass over the input by `route`. `again` says why an earlier pass gave up:
        /// nothing of it is committed, and the writers must be reopened first.
        case runPass(Route, again: String?)
        /// A dry run's second pass, to check the keys its first pass screened.
        case recheck(KeyScreen)
        /// The database's exact check of the keys that may repeat.
        case checkDuplicates(DuplicateFilter?)
        /// Take the load lock and upsert on every writer.
        case upsert
        /// Load, index and check the new partitions of a partitioned `scores` (see
        /// ``AttachBuilder``), before the commit point attaches them.
        case buildPartitions
        /// The commit point: commit every writer (see ``LoadCommit``).
        case commit(IngestSummary)
        /// `--no-commit`: roll every writer back, and the run is done.
        case rollBackNoCommit(IngestSummary)
        /// Invalid input: roll every writer back, drop the rejects file, throw.
        case refuse(IngestFailure)
        /// Throw `error`; before the commit point roll every writer back first (after it,
        /// ``LoadCommit`` has settled them).
        case fail(any Error, rollBack: Bool)
        /// The run is over: return `summary`.
        case done(IngestSummary)
    }

    private enum State {
        case idle
        case passing(Route, rechecked: Bool)
        case checkingDuplicates(unchanged: Int)
        case upserting(unchanged: Int)
        case buildingPartitions
        case committing
        case finished
    }

    private var state = State.idle
    private var summary: IngestSummary
    private let dryRun: Bool
    private let noCommit: Bool
    private let maxErrors: Int?
    /// Rows the last pass kept for new partitions (``StreamOutcome/newPartitions``).
    private var newPartitionRows = 0

    /// - Parameter summary: What is known before the first pass (files, writers).
    init(summary: IngestSummary, dryRun: Bool, noCommit: Bool, maxErrors: Int?) {
        self.summary = summary
        self.dryRun = dryRun
        self.noCommit = noCommit
        self.maxErrors = maxErrors
    }

    /// Whether the run has reached its commit point: from there on nothing is retried, and
    /// a failure leaves the writers to ``LoadCommit``.
    private(set) var reachedCommitPoint = false

    mutating func start() -> Action {
        guard case .idle = state else { preconditionFailure("started twice") }
        // A dry run sends nothing: there is no mode to probe for.
        let route = dryRun ? Route.staging : .probe(allowDirect: true)
        state = .passing(route, rechecked: false)
        return .runPass(route, again: nil)
    }

    /// A pass ended; `stagedRows` is what the writers' COPYs took.
    mutating func passEnded(_ outcome: StreamOutcome, stagedRows: Int) -> Action {
        guard case let .passing(route, rechecked) = state else { preconditionFailure("no pass was running") }
        if outcome.fatal == nil, !rechecked, let screen = outcome.screen, screen.overflowed || !screen.candidates.isEmpty {
            state = .passing(route, rechecked: true)
            return .recheck(screen)
        }
        if let fallback = fallback(after: outcome, route: route) { return fallback }
        summary.rowsRead = outcome.rowsRead
        summary.rejected = outcome.rejected
        newPartitionRows = outcome.newPartitions.reduce(0) { $0 + $1.rows }
        if let fatal = outcome.fatal {
            if case let .unreadable(row) = fatal {
                return refuse("nothing was loaded: \(row.file) cannot be read past this point",
                              errors: outcome.errors + [row], count: outcome.errorCount + 1)
            }
            return fail(fatal.error)
        }
        let allowed = maxErrors ?? 0
        if outcome.rejected > allowed {
            let message = maxErrors == nil
                ? "nothing was loaded: \(outcome.rejected) of \(outcome.rowsRead) rows are invalid"
                : "nothing was loaded: \(outcome.rejected) rows are invalid, more than --max-errors \(allowed)"
            return refuse(message, errors: outcome.errors, count: outcome.errorCount,
                          hint: maxErrors == nil ? "fix the files, or load the good rows with --max-errors N --rejects FILE" : nil)
        }
        if dryRun {
            summary.unchanged = 0
            summary.outcome = .dryRun
            state = .finished
            return .done(summary)
        }
        if outcome.mode == .direct {
            summary.inserted = stagedRows
            return commit()
        }
        state = .checkingDuplicates(unchanged: outcome.unchanged)
        return .checkDuplicates(outcome.duplicates)
    }

    /// The next route when a pass gave up on its mode: a direct COPY that met an existing
    /// key compares instead; a comparison that gave up goes through the staging table.
    private mutating func fallback(after outcome: StreamOutcome, route: Route) -> Action? {
        let next: Route
        let reason: String
        switch (outcome.fatal, outcome.mode) {
        case let (.keyExists(error)?, .direct):
            next = .probe(allowDirect: false)
            reason = "a key is in scores already or twice in the input (\(error.detail ?? error.message)); loading again, comparing with scores"
        case let (.comparisonAbandoned(abandoned)?, .compare):
            next = .staging
            reason = "\(abandoned); loading again through the staging table"
        default:
            return nil
        }
        state = .passing(next, rechecked: false)
        return .runPass(next, again: reason)
    }

    /// The database's duplicate check found `total` repeated keys (`errors`: the first).
    mutating func duplicatesChecked(total: Int, errors: [RowError]) -> Action {
        guard case let .checkingDuplicates(unchanged) = state else { preconditionFailure("no duplicate check was running") }
        if total > 0 {
            return refuse("nothing was loaded: \(total) key(s) appear more than once", errors: errors, count: total,
                          hint: "keep the last occurrence with --on-duplicate last")
        }
        state = .upserting(unchanged: unchanged)
        return .upsert
    }

    /// The upsert wrote `inserted` and `updated` rows of the `stagedRows` staged.
    mutating func upserted(inserted: Int, updated: Int, stagedRows: Int) -> Action {
        guard case let .upserting(unchanged) = state else { preconditionFailure("no upsert was running") }
        summary.inserted += inserted
        summary.updated += updated
        summary.unchanged = unchanged + stagedRows - summary.inserted - summary.updated
        return commit()
    }

    /// The new partitions are loaded and indexed; `inserted` rows are in them. A key that
    /// repeats among them (`duplicate`: the server's words) refuses the run as the staging
    /// path's duplicate check does.
    mutating func partitionsBuilt(inserted: Int, duplicate: String?) -> Action {
        guard case .buildingPartitions = state else { preconditionFailure("no partitions were being built") }
        if let duplicate {
            return refuse("nothing was loaded: a key appears more than once among the rows of dates no partition of scores holds yet (\(duplicate))",
                          errors: [], count: 0, hint: "keep the last occurrence with --on-duplicate last")
        }
        summary.inserted += inserted
        newPartitionRows = 0
        return commit()
    }

    private mutating func commit() -> Action {
        // Rows of new partitions are loaded apart from the writers, once the writers' part is
        // ready (its duplicates checked and upserted), and attached at the commit point
        // (`--no-commit` builds them too, then drops them with the rollback).
        if newPartitionRows > 0 {
            state = .buildingPartitions
            return .buildPartitions
        }
        if noCommit {
            summary.outcome = .rolledBackNoCommit
            state = .finished
            return .rollBackNoCommit(summary)
        }
        summary.outcome = .committed
        state = .committing
        reachedCommitPoint = true
        return .commit(summary)
    }

    mutating func committed() -> Action {
        guard case .committing = state else { preconditionFailure("no commit was running") }
        state = .finished
        return .done(summary)
    }

    /// An action failed (a commit included).
    mutating func failed(_ error: any Error) -> Action {
        fail(error)
    }

    private mutating func fail(_ error: any Error) -> Action {
        let rollBack = !reachedCommitPoint
        state = .finished
        return .fail(error, rollBack: rollBack)
    }

    private mutating func refuse(_ message: String, errors: [RowError], count: Int, hint: String? = nil) -> Action {
        summary.outcome = .rolledBack
        state = .finished
        return .refuse(IngestFailure(code: .invalidInput, message: message, errors: errors, errorCount: count,
                                     summary: summary, hint: hint))
    }
}
