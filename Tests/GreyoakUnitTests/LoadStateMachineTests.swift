import Testing
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// The load's coordination as a value: events in, actions out, no server and no threads.
@Suite("Load state machine: passes, fallbacks, verdict and commit point")
struct LoadStateMachineTests {
    private func machine(dryRun: Bool = false, noCommit: Bool = false, maxErrors: Int? = nil) -> LoadStateMachine {
        LoadStateMachine(summary: IngestSummary(), dryRun: dryRun, noCommit: noCommit, maxErrors: maxErrors)
    }

    private func outcome(_ mode: LoadMode, rows: Int = 10, rejected: Int = 0, unchanged: Int = 0, fatal: PassFailure? = nil) -> StreamOutcome {
        var outcome = StreamOutcome()
        outcome.mode = mode
        outcome.rowsRead = rows
        outcome.rejected = rejected
        outcome.errorCount = rejected
        outcome.unchanged = unchanged
        outcome.fatal = fatal
        return outcome
    }

    /// The action's case, for comparing sequences.
    private func name(_ action: LoadStateMachine.Action) -> String {
        switch action {
        case let .runPass(route, again): "pass \(route)\(again == nil ? "" : " again")"
        case .recheck: "recheck"
        case .checkDuplicates: "duplicates"
        case .upsert: "upsert"
        case .buildPartitions: "build partitions"
        case let .commit(summary): "commit \(summary.inserted)/\(summary.updated)/\(summary.unchanged)"
        case .rollBackNoCommit: "no commit"
        case let .refuse(failure): "refuse \(failure.errorCount)"
        case let .fail(_, rollBack): rollBack ? "fail, roll back" : "fail"
        case let .done(summary): "done \(summary.outcome)"
        }
    }

    private let keyExists = PassFailure.keyExists(PostgresError(code: .statementFailed, message: "duplicate key", sqlState: "23505"))

    @Test("rows of new partitions: built after the writers' part, counted, committed as one; a repeated key among them refuses")
    func newPartitions() {
        var withNew = outcome(.direct)
        withNew.newPartitions = [AttachSpool.Partition(name: "scores_p2025_01", low: 0, high: 1, rows: 5)]
        var load = machine()
        _ = load.start()
        #expect(name(load.passEnded(withNew, stagedRows: 10)) == "build partitions")
        #expect(!load.reachedCommitPoint)
        #expect(name(load.partitionsBuilt(inserted: 5, duplicate: nil)) == "commit 15/0/0")
        #expect(load.reachedCommitPoint)

        var refused = machine()
        _ = refused.start()
        _ = refused.passEnded(withNew, stagedRows: 10)
        #expect(name(refused.partitionsBuilt(inserted: 0, duplicate: "Key (...) is duplicated.")) == "refuse 0")
        #expect(!refused.reachedCommitPoint)
    }

    @Test("a load probes first; a direct pass commits what the COPY took")
    func direct() {
        var load = machine()
        #expect(name(load.start()) == "pass probe(allowDirect: true)")
        #expect(name(load.passEnded(outcome(.direct), stagedRows: 10)) == "commit 10/0/0")
        #expect(load.reachedCommitPoint)
        #expect(name(load.committed()) == "done committed")
    }

    @Test("direct → compare → staging: each fallback reopens and passes again")
    func fallbacks() {
        var load = machine()
        _ = load.start()
        #expect(name(load.passEnded(outcome(.direct, fatal: keyExists), stagedRows: 0)) == "pass probe(allowDirect: false) again")
        let abandoned = PassFailure.comparisonAbandoned(ExistingRows.Abandoned(reason: "a key of scores occurs more than once in the input"))
        #expect(name(load.passEnded(outcome(.compare, fatal: abandoned), stagedRows: 0)) == "pass staging again")
        #expect(name(load.passEnded(outcome(.staging), stagedRows: 10)) == "duplicates")
        #expect(name(load.duplicatesChecked(total: 0, errors: [])) == "upsert")
        #expect(!load.reachedCommitPoint)
        #expect(name(load.upserted(inserted: 4, updated: 3, stagedRows: 10)) == "commit 4/3/3")
    }

    @Test("a key exists in a staging pass: not a fallback but a failure, rolled back")
    func keyExistsOutsideDirect() {
        var load = machine()
        _ = load.start()
        #expect(name(load.passEnded(outcome(.staging, fatal: keyExists), stagedRows: 0)) == "fail, roll back")
    }

    @Test("compare: rows found unchanged count as unchanged")
    func compareUnchanged() {
        var load = machine()
        _ = load.start()
        _ = load.passEnded(outcome(.compare, rows: 10, unchanged: 6), stagedRows: 4)
        _ = load.duplicatesChecked(total: 0, errors: [])
        #expect(name(load.upserted(inserted: 1, updated: 3, stagedRows: 4)) == "commit 1/3/6")
    }

    @Test("the verdict: invalid rows past --max-errors, repeated keys, an unreadable file refuse")
    func verdicts() {
        var strict = machine()
        _ = strict.start()
        #expect(name(strict.passEnded(outcome(.staging, rejected: 1), stagedRows: 9)) == "refuse 1")

        var lenient = machine(maxErrors: 2)
        _ = lenient.start()
        #expect(name(lenient.passEnded(outcome(.staging, rejected: 2), stagedRows: 8)) == "duplicates")
        #expect(name(lenient.duplicatesChecked(total: 3, errors: [])) == "refuse 3")

        var unreadable = machine()
        _ = unreadable.start()
        let row = RowError(file: "a.csv", fileIndex: 0, location: .line(3), rule: .required, isFatal: true)
        #expect(name(unreadable.passEnded(outcome(.staging, fatal: .unreadable(row)), stagedRows: 0)) == "refuse 1")
    }

    @Test("a dry run passes over staging, rechecks screened keys once, and is done")
    func dryRun() {
        var load = machine(dryRun: true)
        #expect(name(load.start()) == "pass staging")
        var first = outcome(.staging)
        let screen = KeyScreen()
        for _ in 0..<2 { screen.insert(42) }
        first.screen = screen
        #expect(name(load.passEnded(first, stagedRows: 0)) == "recheck")
        #expect(name(load.passEnded(first, stagedRows: 0)) == "done dry run")
    }

    @Test("--no-commit rolls back where the commit would be")
    func noCommit() {
        var load = machine(noCommit: true)
        _ = load.start()
        #expect(name(load.passEnded(outcome(.direct), stagedRows: 10)) == "no commit")
        #expect(!load.reachedCommitPoint)
    }

    @Test("a failure before the commit point rolls back; after it, the writers are left to LoadCommit")
    func failures() {
        var early = machine()
        _ = early.start()
        _ = early.passEnded(outcome(.staging), stagedRows: 10)
        #expect(name(early.failed(PostgresError(code: .connectionClosed, message: "gone"))) == "fail, roll back")
        #expect(!early.reachedCommitPoint)

        var late = machine()
        _ = late.start()
        _ = late.passEnded(outcome(.direct), stagedRows: 10)
        #expect(name(late.failed(PostgresError(code: .connectionClosed, message: "gone"))) == "fail")
        #expect(late.reachedCommitPoint)
    }
}
