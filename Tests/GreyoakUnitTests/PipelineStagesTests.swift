import Testing
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// One pass over a real file with fake writers: reading, parsing, validating, the mode
/// question, and how a failure stops the pass.
@Suite("Pipeline stages")
struct PipelineStagesTests {
    @Test("every good row reaches exactly one writer, in the mode the probe picked")
    func rowsReachWriters() throws {
        let stages = try LoadFixtures.stages(try LoadFixtures.csv(good: 300, bad: 2), maxErrors: 5)
        let (pool, writers) = LoadFixtures.pool([.init(), .init()])
        let probe = FakeProbe { _ in .direct }
        let outcome = stages.run(into: pool.writers, probe: probe, inMemory: nil)
        #expect(outcome.fatal == nil)
        #expect(outcome.mode == .direct)
        #expect(outcome.rowsRead == 302 && outcome.rejected == 2 && outcome.errorCount == 2)
        #expect(writers.map(\.stagedRows).reduce(0, +) == 300)
        #expect(writers.allSatisfy { $0.stagedRows > 0 })
        #expect(probe.asked == [true])
    }

    @Test("without a probe the pass stages, and the coordinator is not asked")
    func staging() throws {
        let stages = try LoadFixtures.stages(try LoadFixtures.csv(good: 20))
        let (pool, writers) = LoadFixtures.pool([.init()])
        let outcome = stages.run(into: pool.writers, probe: nil, inMemory: nil)
        #expect(outcome.mode == .staging && writers[0].stagedRows == 20)
    }

    @Test("past the error budget nothing more is sent, but every row is still counted")
    func budget() throws {
        let stages = try LoadFixtures.stages(try LoadFixtures.csv(good: 10, bad: 3))
        let (pool, writers) = LoadFixtures.pool([.init()])
        let outcome = stages.run(into: pool.writers, probe: nil, inMemory: nil)
        #expect(outcome.rowsRead == 13 && outcome.rejected == 3)
        #expect(writers[0].stagedRows <= 10)
    }

    @Test("a writer's failure stops the pass and is its fatal failure, typed where it happened")
    func writerFails() throws {
        let stages = try LoadFixtures.stages(try LoadFixtures.csv(good: 50))
        let (pool, _) = LoadFixtures.pool([.init(keyExistsInDirect: true), .init()])
        let outcome = stages.run(into: pool.writers, probe: FakeProbe { _ in .direct }, inMemory: nil)
        guard case .keyExists? = outcome.fatal else {
            Issue.record("expected keyExists, got \(String(describing: outcome.fatal))")
            return
        }
    }

    @Test("an unreadable file is a failed pass, not a crash")
    func unreadable() throws {
        var stages = try LoadFixtures.stages(try LoadFixtures.csv(good: 1))
        stages = PipelineStages(files: [InputFile(name: "gone.csv", path: "/nonexistent/gone.csv", format: .csv, gzipped: false)],
                                spool: nil, options: stages.options, progress: stages.progress, logger: stages.logger)
        let (pool, _) = LoadFixtures.pool([.init()])
        let outcome = stages.run(into: pool.writers, probe: nil, inMemory: nil)
        #expect(outcome.fatal != nil)
    }
}
