import Dispatch
import Synchronization
import Testing
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// The writer pool with fake writers: who it keeps, how it tries again, how it fails.
@Suite("Writer pool")
struct WriterPoolTests {
    private let refused = PostgresError(code: .connectionFailed, message: "too many connections", sqlState: nil)

    @Test("keeps the writers that connected, and goes on with fewer")
    func fewer() throws {
        let (pool, _) = LoadFixtures.pool([.init(), .init(connectFailure: refused), .init()])
        try pool.connect()
        #expect(pool.writers.map(\.index) == [0, 2])
    }

    @Test("none connected: one writer tries again alone, on the reconnect schedule, then gives up")
    func noneConnected() throws {
        let clock = RecordingClock()
        let made = Mutex(0)
        let pool = WriterPool(count: 2, logger: LoadFixtures.logger, clock: clock) { index in
            made.withLock { $0 += 1 }
            return FakeLoadWriter(index: index, script: .init(connectFailure: refused))
        }
        #expect(throws: PostgresError.self) { try pool.connect() }
        #expect(clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6])
        #expect(made.withLock { $0 } == 2 + WriterPool.reconnectTries)
    }

    @Test("none connected, then a slot frees: the load goes on with one writer")
    func slotFrees() throws {
        let clock = RecordingClock()
        let made = Mutex(0)
        let pool = WriterPool(count: 2, logger: LoadFixtures.logger, clock: clock) { index in
            let n = made.withLock { $0 += 1; return $0 }
            return FakeLoadWriter(index: index, script: .init(connectFailure: n <= 3 ? refused : nil))
        }
        try pool.connect()
        #expect(pool.count == 1)
        #expect(clock.sleeps == [0.05, 0.1])
    }

    @Test("keep: closes the writers past the count and gives each its share of the sort budget")
    func keep() throws {
        let (pool, writers) = LoadFixtures.pool([.init(), .init(), .init()])
        try pool.connect()
        pool.keep(2, twoPhase: true, distribution: .local)
        #expect(pool.count == 2)
        #expect(writers[2].events == ["close"])
        #expect(writers[0].configuration?.twoPhase == true)
        #expect(writers[0].configuration?.sortBudget == KeyOrderRuns.totalBudget / 2)
        #expect(writers[2].configuration == nil)
    }

    @Test("an upsert that fails on one writer rolls every writer back and throws its error")
    func upsertFails() throws {
        let failure = PostgresError(code: .statementFailed, message: "disk full", sqlState: "53100")
        let (pool, writers) = LoadFixtures.pool([.init(), .init(upsertFailure: failure)])
        try pool.connect()
        #expect(throws: PostgresError.self) { try pool.upsert() }
        #expect(writers.allSatisfy { $0.events.contains("rollback") })
    }

    @Test("duplicates: the writers' counts add up")
    func duplicates() throws {
        let (pool, _) = LoadFixtures.pool([.init(duplicateTotal: 2), .init(duplicateTotal: 3)])
        try pool.connect()
        #expect(try pool.duplicates(policy: .error, filter: nil, limit: 10).total == 5)
    }
}

/// The load mode, asked once by the validator, answered once by the coordinator.
@Suite("Load mode gate")
struct LoadModeGateTests {
    @Test("the question reaches the coordinator; its answer reaches every waiter")
    func askAndAnswer() {
        let gate = LoadModeGate()
        let answers = Mutex<[LoadMode?]>([])
        let group = DispatchGroup()
        for _ in 0..<3 {
            DispatchQueue.global().async(group: group) {
                let mode = gate.wait()
                answers.withLock { $0.append(mode) }
            }
        }
        DispatchQueue.global().async { gate.ask([20000]) }
        #expect(gate.awaitQuestion() == [20000])
        gate.set(.compare)
        gate.set(.direct)  // set once: the first answer stands
        group.wait()
        #expect(answers.withLock { $0 } == [.compare, .compare, .compare])
    }

    @Test("a mode set without a question: the coordinator has nothing to answer")
    func setWithoutQuestion() {
        let gate = LoadModeGate()
        gate.set(.staging)
        #expect(gate.awaitQuestion() == nil)
        #expect(gate.wait() == .staging)
    }

    @Test("cancelled: waiters get nil")
    func cancelled() {
        let gate = LoadModeGate()
        gate.cancel()
        #expect(gate.wait() == nil)
        #expect(gate.awaitQuestion() == nil)
    }
}

/// The commit point's decision, the part of ``LoadCommit`` that needs no connection.
@Suite("Load commit: the decision")
struct LoadCommitDecisionTests {
    private var summary: IngestSummary {
        var summary = IngestSummary()
        summary.rowsRead = 10
        summary.inserted = 7
        summary.updated = 2
        summary.unchanged = 1
        return summary
    }

    @Test("the journal's committed row carries the summary's counts")
    func journal() {
        let decision = LoadCommit.decision(load: 42, summary: summary, ledgerEntry: nil)
        #expect(decision.count == 1)
        #expect(decision[0].0.contains("UPDATE greyoak_load SET state = 'committed'"))
        #expect(decision[0].1 == ["42", "10", "7", "2", "1"])
    }

    @Test("--each-file: the ledger row follows, in the same transaction")
    func ledger() {
        let entry = IngestLedgerEntry(file: "a.csv", sha256: "abc", bytes: 99)
        let decision = LoadCommit.decision(load: 42, summary: summary, ledgerEntry: entry)
        #expect(decision.count == 2)
        #expect(decision[1].0.contains("INSERT INTO greyoak_ingest_log"))
        #expect(decision[1].1.prefix(3) == ["a.csv", "abc", "99"])
    }
}

/// The parts of ``StagingWriter`` that need no connection: what it sends with the duplicate
/// check, and how it reads the groups back.
@Suite("Staging writer: the duplicate check's parameters and rows")
struct StagingWriterTests {
    @Test("candidates go as three text arrays: tickers, microseconds, mode names")
    func parameters() {
        let parameters = StagingWriter.candidateParameters([("TCS.NS", 1_728_345_600_000_000, .trader), ("M&M.NS", 5, .investor)])
        #expect(parameters == ["{\"TCS.NS\",\"M&M.NS\"}", "{\"1728345600000000\",\"5\"}", "{\"Trader\",\"Investor\"}"])
    }

    @Test("a group's places: the file index above bit 40, the line below")
    func group() {
        let row: [String?] = ["TCS.NS", "2024-10-08 00:00:00", "Trader", String(2 << 40 | 17), String(3 << 40 | 4), "3"]
        let group = StagingWriter.duplicateGroup(row)
        #expect(group.ticker == "TCS.NS" && group.mode == "Trader" && group.places == 3)
        #expect(group.first == (2, 17) && group.second == (3, 4))
    }
}
