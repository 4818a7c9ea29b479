import Testing
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// Whole loads with no server: the ``LoadStateMachine`` run by the ``LoadDriver`` over the
/// real ``PipelineStages`` (reading, parsing, validating a file) and ``WriterPool``, with
/// fake writers and a fake load-mode probe.
@Suite("Load: a whole load through the state machine, with fake writers")
struct LoadDriverTests {
    private func load(rows: Int = 50, bad: Int = 0, maxErrors: Int? = nil, noCommit: Bool = false,
                      scripts: [FakeLoadWriter.Script], probe: FakeProbe) throws -> (Result<IngestSummary, any Error>, FakeEffects, [FakeLoadWriter]) {
        let stages = try LoadFixtures.stages(try LoadFixtures.csv(good: rows, bad: bad), maxErrors: maxErrors)
        let (pool, writers) = LoadFixtures.pool(scripts)
        try pool.connect()
        let effects = FakeEffects(pool: pool, stages: stages, probe: probe)
        var summary = IngestSummary()
        summary.files = 1
        summary.writers = pool.count
        var machine = LoadStateMachine(summary: summary, dryRun: false, noCommit: noCommit, maxErrors: maxErrors)
        let result = Result { try LoadDriver.run(&machine, effects) }
        #expect(machine.reachedCommitPoint == effects.log.contains("commit"))
        return (result, effects, writers)
    }

    @Test("the whole load: success, direct → compare fallback, writer failure, commit failure")
    func wholeLoad() throws {
        // Success: new dates, straight into scores, committed.
        let direct = try load(scripts: [.init(), .init()], probe: FakeProbe { $0 ? .direct : .compare })
        let summary = try direct.0.get()
        #expect(summary.outcome == .committed)
        #expect(summary.rowsRead == 50 && summary.inserted == 50 && summary.rejected == 0)
        #expect(direct.1.log == ["pass probe(allowDirect: true)", "commit"])
        #expect(direct.2.map(\.events) == [["copy direct", "commit"], ["copy direct"]])

        // A key exists: the direct COPY gives up, the load goes again comparing, and upserts.
        let fallback = try load(scripts: [.init(keyExistsInDirect: true), .init()], probe: FakeProbe { $0 ? .direct : .compare })
        let again = try fallback.0.get()
        #expect(again.outcome == .committed && again.inserted == 50 && again.unchanged == 0)
        #expect(fallback.1.log == ["pass probe(allowDirect: true)", "pass probe(allowDirect: false) again", "duplicates", "upsert", "commit"])
        #expect(fallback.1.probe.asked == [true, false])
        #expect(fallback.2[0].events == ["copy direct", "reopen", "copy compare", "duplicates", "upsert", "commit"])

        // A writer fails: every writer is rolled back, nothing committed, its error thrown.
        let broken = PostgresError(code: .copyFailed, message: "server closed the connection unexpectedly")
        let failed = try load(scripts: [.init(), .init(copyFailure: broken)], probe: FakeProbe { _ in .staging })
        #expect(throws: PostgresError.self) { try failed.0.get() }
        #expect(failed.1.log == ["pass probe(allowDirect: true)", "rollback"])
        #expect(failed.2.allSatisfy { $0.events.contains("rollback") && !$0.events.contains("commit") })

        // The commit fails: past the commit point, so the writers are left to LoadCommit.
        let refused = PostgresError(code: .statementFailed, message: "could not serialize access", sqlState: "40001")
        let commit = try load(scripts: [.init(commitFailure: refused), .init()], probe: FakeProbe { _ in .staging })
        #expect(throws: PostgresError.self) { try commit.0.get() }
        #expect(commit.1.log == ["pass probe(allowDirect: true)", "duplicates", "upsert", "commit"])
        #expect(commit.2.allSatisfy { !$0.events.contains("rollback") })
    }

    @Test("invalid rows past --max-errors refuse the load: rolled back, the errors counted")
    func refused() throws {
        let run = try load(rows: 10, bad: 3, maxErrors: 2, scripts: [.init()], probe: FakeProbe { _ in .staging })
        let failure = try #require(throws: IngestFailure.self) { try run.0.get() }
        #expect(failure.errorCount == 3 && failure.summary.rejected == 3 && failure.summary.outcome == .rolledBack)
        #expect(run.1.log == ["pass probe(allowDirect: true)", "refuse"])
    }

    @Test("--no-commit does every step but the commit, then rolls back")
    func noCommit() throws {
        let run = try load(noCommit: true, scripts: [.init()], probe: FakeProbe { _ in .staging })
        #expect(try run.0.get().outcome == .rolledBackNoCommit)
        #expect(run.1.log == ["pass probe(allowDirect: true)", "duplicates", "upsert", "rollback (--no-commit)"])
    }
}
