/// What the ``LoadStateMachine``'s actions do: the I/O side of one load attempt. The
/// pipeline's is ``AttemptEffects``, over the coordinator and the writers; tests use fakes.
protocol LoadEffects {
    /// Makes a pass over the input; `again` (why an earlier pass gave up) asks for the
    /// writers to be reopened first.
    func runPass(_ route: LoadStateMachine.Route, again: String?) throws -> StreamOutcome
    /// A dry run's second pass over the input, for the keys its first pass screened.
    func recheck(_ screen: KeyScreen) -> StreamOutcome
    /// Rows the writers' COPYs took.
    var stagedRows: Int { get }
    /// The database's duplicate check: how many keys repeat, and the errors to report.
    func duplicates(_ filter: DuplicateFilter?) throws -> (total: Int, errors: [RowError])
    func upsert() throws -> (inserted: Int, updated: Int)
    /// Loads and indexes the new partitions: the rows in them, or the server's words for a
    /// key they hold twice.
    func buildPartitions() throws -> (inserted: Int, duplicate: String?)
    /// The commit point.
    func commit(_ summary: IngestSummary) throws
    /// Rolls every writer back; `refused` (invalid input) also drops the rejects file.
    func rollBack(refused: Bool)
    /// `--no-commit`: rolls every writer back and records why.
    func rollBackNoCommit()
    /// `summary` with the run's time filled in.
    func timed(_ summary: IngestSummary) -> IngestSummary
    /// The committed `summary` with what only the commit measured (the attach's time).
    func afterCommit(_ summary: IngestSummary) -> IngestSummary
}

/// Runs a ``LoadStateMachine`` to its end: performs each action with `effects` and feeds
/// what came of it back, until the machine says done, refuse or fail.
enum LoadDriver {
    /// - Returns: The summary of the run.
    /// - Throws: ``IngestFailure`` for a refused run, else what the failed action threw.
    static func run(_ machine: inout LoadStateMachine, _ effects: some LoadEffects) throws -> IngestSummary {
        var action = machine.start()
        // The summary the commit recorded, returned as it was.
        var committed: IngestSummary?
        while true {
            switch action {
            case let .done(summary):
                return committed ?? effects.timed(summary)
            case let .rollBackNoCommit(summary):
                effects.rollBackNoCommit()
                return effects.timed(summary)
            case var .refuse(failure):
                effects.rollBack(refused: true)
                failure.summary = effects.timed(failure.summary)
                throw failure
            case let .fail(error, rollBack):
                if rollBack { effects.rollBack(refused: false) }
                throw error
            case let .commit(summary):
                let timed = effects.timed(summary)
                committed = timed
                do {
                    try effects.commit(timed)
                    committed = effects.afterCommit(timed)
                    action = machine.committed()
                } catch {
                    action = machine.failed(error)
                }
            default:
                do {
                    action = try step(action, &machine, effects)
                } catch {
                    action = machine.failed(error)
                }
            }
        }
    }

    /// Performs an action that leads to another event.
    private static func step(_ action: LoadStateMachine.Action, _ machine: inout LoadStateMachine,
                             _ effects: some LoadEffects) throws -> LoadStateMachine.Action {
        switch action {
        case let .runPass(route, again):
            let outcome = try effects.runPass(route, again: again)
            return machine.passEnded(outcome, stagedRows: effects.stagedRows)
        case let .recheck(screen):
            return machine.passEnded(effects.recheck(screen), stagedRows: effects.stagedRows)
        case let .checkDuplicates(filter):
            let found = try effects.duplicates(filter)
            return machine.duplicatesChecked(total: found.total, errors: found.errors)
        case .upsert:
            let counts = try effects.upsert()
            return machine.upserted(inserted: counts.inserted, updated: counts.updated, stagedRows: effects.stagedRows)
        case .buildPartitions:
            let built = try effects.buildPartitions()
            return machine.partitionsBuilt(inserted: built.inserted, duplicate: built.duplicate)
        default:
            preconditionFailure("\(action) ends the run")
        }
    }
}
