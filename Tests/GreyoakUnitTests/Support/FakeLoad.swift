import Dispatch
import Foundation
import Logging
import Synchronization
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// A ``LoadWriter`` with no server: it reads its COPY data and counts the rows in it, and
/// fails where its ``Script`` says. What it was asked to do is in ``events``.
final class FakeLoadWriter: LoadWriter {
    struct Script: Sendable {
        var connectFailure: PostgresError?
        /// A direct COPY fails on the primary key (23505), as when `scores` holds a key.
        var keyExistsInDirect = false
        var copyFailure: PostgresError?
        var duplicateTotal = 0
        var upsertFailure: PostgresError?
        var commitFailure: PostgresError?
    }

    private struct State {
        var script: Script
        var stagedRows = 0
        var failure: PassFailure?
        var events: [String] = []
        var configuration: WriterConfiguration?
    }

    let index: Int
    private let queue: DispatchQueue
    private let state: Mutex<State>

    init(index: Int, script: Script = Script()) {
        self.index = index
        queue = DispatchQueue(label: "fake.writer.\(index)")
        state = Mutex(State(script: script))
    }

    var events: [String] { state.withLock { $0.events } }
    var configuration: WriterConfiguration? { state.withLock { $0.configuration } }
    var backendPID: Int32? { Int32(1000 + index) }
    var stagedRows: Int { state.withLock { $0.stagedRows } }

    private func log(_ event: String) { state.withLock { $0.events.append(event) } }

    func waitForConnection() -> (any Error)? { state.withLock { $0.script.connectFailure } }

    func configure(_ configuration: WriterConfiguration) { state.withLock { $0.configuration = configuration } }

    func start(mode gate: LoadModeGate, input: BoundedQueue<CopyChunk>, group: DispatchGroup,
               onFailure: @escaping @Sendable (PassFailure) -> Void) {
        queue.async(group: group) { [self] in
            guard let mode = gate.wait() else { return }
            log("copy \(mode)")
            var rows = 0
            while let chunk = input.take() { rows += Self.rows(in: chunk.rows.bytes) }
            let script = state.withLock { $0.script }
            let failure: PassFailure? = if mode == .direct && script.keyExistsInDirect {
                .keyExists(PostgresError(code: .statementFailed, message: "duplicate key value violates unique constraint \"scores_pkey\"",
                                         sqlState: SQLState.uniqueViolation))
            } else {
                script.copyFailure.map { .failed($0) }
            }
            if let failure {
                input.cancel()
                state.withLock { $0.failure = failure }
                onFailure(failure)
            } else {
                state.withLock { $0.stagedRows = rows }
            }
        }
    }

    /// Rows in binary COPY tuples: a field count, then each field's length and bytes.
    static func rows(in bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0, rows = 0
        func int(_ size: Int) -> Int {
            defer { offset += size }
            return (0..<size).reduce(0) { $0 << 8 | Int(bytes[offset + $1]) }
        }
        while offset < bytes.count {
            let fields = int(2)
            for _ in 0..<fields {
                let length = Int(Int32(truncatingIfNeeded: int(4)))
                if length > 0 { offset += length }
            }
            rows += 1
        }
        return rows
    }

    func waitForLoad() -> PassFailure? { queue.sync { state.withLock { $0.failure } } }

    func reopen() throws {
        log("reopen")
        state.withLock {
            $0.failure = nil
            $0.stagedRows = 0
        }
    }

    func duplicates(policy: DuplicatePolicy, candidates: [(String, Int64, Mode)]?, limit: Int) throws -> (groups: [DuplicateGroup], total: Int) {
        log("duplicates")
        return ([], state.withLock { $0.script.duplicateTotal })
    }

    func upsert() throws -> (inserted: Int, updated: Int) {
        log("upsert")
        if let failure = state.withLock({ $0.script.upsertFailure }) { throw failure }
        return (stagedRows, 0)
    }

    func commit(with decision: [(String, [String?])]) throws {
        if let failure = state.withLock({ $0.script.commitFailure }) {
            log("commit failed")
            throw failure
        }
        log("commit")
    }

    func prepareTransaction(_ gid: String) throws { log("prepare \(gid)") }
    func rollback() { log("rollback") }
    func close() { log("close") }
}

/// A ``LoadModeProbe`` that answers from a table: `scores` holds none of the rows.
final class FakeProbe: LoadModeProbe {
    let mode: (_ allowDirect: Bool) -> LoadMode
    private(set) var asked: [Bool] = []

    init(_ mode: @escaping (_ allowDirect: Bool) -> LoadMode) { self.mode = mode }

    func mode(for dates: Set<Int64>, allowDirect: Bool) throws -> LoadMode {
        asked.append(allowDirect)
        return mode(allowDirect)
    }

    func existingRows(_ request: ExistingRowsChannel.Request) throws -> [RowFingerprint]? { [] }
}

/// ``LoadEffects`` over fake writers and the real ``PipelineStages``: a whole load with no
/// server. Commits as a one-transaction load does (on the first writer).
final class FakeEffects: LoadEffects {
    let pool: WriterPool
    let stages: PipelineStages
    let probe: FakeProbe
    private(set) var log: [String] = []

    init(pool: WriterPool, stages: PipelineStages, probe: FakeProbe) {
        self.pool = pool
        self.stages = stages
        self.probe = probe
    }

    func runPass(_ route: LoadStateMachine.Route, again: String?) throws -> StreamOutcome {
        log.append("pass \(route)" + (again == nil ? "" : " again"))
        if again != nil { try pool.reopen() }
        switch route {
        case let .probe(allowDirect): return stages.run(into: pool.writers, probe: probe, allowDirect: allowDirect, inMemory: nil)
        case .staging: return stages.run(into: pool.writers, probe: nil, inMemory: nil)
        }
    }

    func recheck(_ screen: KeyScreen) -> StreamOutcome {
        stages.run(into: [], probe: nil, inMemory: .exact(candidates: screen.candidates))
    }

    var stagedRows: Int { pool.stagedRows }

    func duplicates(_ filter: DuplicateFilter?) throws -> (total: Int, errors: [RowError]) {
        log.append("duplicates")
        return (try pool.duplicates(policy: .error, filter: filter, limit: 20).total, [])
    }

    func upsert() throws -> (inserted: Int, updated: Int) {
        log.append("upsert")
        return try pool.upsert()
    }

    func commit(_ summary: IngestSummary) throws {
        log.append("commit")
        try pool.writers[0].commit(with: [])
    }

    func rollBack(refused: Bool) {
        log.append(refused ? "refuse" : "rollback")
        pool.rollback()
    }

    func rollBackNoCommit() {
        log.append("rollback (--no-commit)")
        pool.rollback()
    }

    func timed(_ summary: IngestSummary) -> IngestSummary { summary }

    /// No fake pass keeps rows for new partitions.
    func buildPartitions() throws -> (inserted: Int, duplicate: String?) {
        log.append("build partitions")
        return (0, nil)
    }

    func afterCommit(_ summary: IngestSummary) -> IngestSummary { summary }
}

/// Score files for loads with no server.
enum LoadFixtures {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static let header = "ticker,scoring_date,mode,f_score,t_score,r_score,o_score,q_score,s_score,weighted_score,risk_penalty,final_score,band,guardrails,as_of,f_z,t_z,r_z,o_z,q_z,s_z"

    /// A valid Trader row.
    static func row(_ ticker: String, date: String = "2024-10-08") -> String {
        "\(ticker),\(date),Trader,70,70,70,70,70,70,70,0,70,Buy,,2024-10-08T10:30:00Z,0.5,0.5,0.5,0.5,0.5,0.5"
    }

    /// A CSV file in a new temporary directory: `good` valid rows, then `bad` rows with a
    /// ticker that is not one.
    static func csv(good: Int, bad: Int = 0) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lines = [header] + (0..<good).map { row("T\($0).NS") } + (0..<bad).map { row("BAD TICKER \($0)") }
        let path = directory.appendingPathComponent("scores.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func stages(_ path: String, maxErrors: Int? = nil) throws -> PipelineStages {
        var options = IngestOptions()
        options.paths = [path]
        options.maxErrors = maxErrors
        let files = try InputFile.expandSome([path], format: nil)
        return PipelineStages(files: files, spool: nil, options: options,
                              progress: IngestProgress(totalFiles: files.count), logger: logger)
    }

    static func pool(_ scripts: [FakeLoadWriter.Script], clock: any RetryClock = SystemRetryClock()) -> (WriterPool, [FakeLoadWriter]) {
        let writers = Mutex<[FakeLoadWriter]>([])
        let pool = WriterPool(count: scripts.count, logger: logger, clock: clock) { index in
            let writer = FakeLoadWriter(index: index, script: index < scripts.count ? scripts[index] : FakeLoadWriter.Script())
            writers.withLock { $0.append(writer) }
            return writer
        }
        return (pool, writers.withLock { $0 })
    }
}
