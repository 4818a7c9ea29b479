import Dispatch
import Foundation
import Logging
import GreyoakPostgres
import Synchronization

/// One writer connection of an ingest: its own transaction, a temporary staging table fed
/// by binary COPY, the duplicate check and the upsert into `scores`.
///
/// Everything its work changes, the libpq connection included, is in `session`, which is
/// locked only on `queue`: the lock never waits, but it lets the compiler prove that the
/// connection is used by one thread at a time. Other threads talk to the writer through
/// `queue` and the pass's input queue.
final class StagingWriter: LoadWriter {
    let index: Int
    private let queue: DispatchQueue
    private let logger: Logger
    private let session = Mutex(Session())
    /// The server process of this writer's session (behind a pooler: of its transaction, which
    /// keeps one), to wait for its end after a failure and to name who blocks it; 0 before it
    /// connected. Read by the lock watcher while a COPY runs, so not behind `queue`.
    private let pid = Atomic<Int32>(0)

    private struct Session {
        var connection: Connection?
        var failure: (any Error)?
        var stagedRows = 0
        var mode = LoadMode.staging
        var configuration = WriterConfiguration()
        /// After ``prepareTransaction(_:)``: the session has no transaction left to roll back.
        var prepared = false
    }

    /// Connects and opens the transaction, in the background: the connection handshake
    /// (SCRAM costs tens of milliseconds) overlaps the coordinator's schema gate.
    init(index: Int, settings: ConnectionSettings, logger: Logger) {
        self.index = index
        self.logger = logger
        queue = DispatchQueue(label: "greyoak.writer.\(index)")
        queue.async { [self] in
            withSession { session in
                do {
                    let connection = try Connection(settings, logger: logger)
                    session.connection = connection
                    pid.store(connection.backendPID, ordering: .relaxed)
                    try begin(connection)
                } catch {
                    session.failure = error
                }
            }
        }
    }

    var backendPID: Int32? {
        let pid = pid.load(ordering: .relaxed)
        return pid == 0 ? nil : pid
    }

    var stagedRows: Int { queue.sync { withSession { $0.stagedRows } } }

    func configure(_ configuration: WriterConfiguration) {
        queue.sync { withSession { $0.configuration = configuration } }
    }

    /// Streams `input` into `scores` (direct mode) or the staging table until it is
    /// closed, once the validator has set the mode. Runs asynchronously on the writer's
    /// queue; `onFailure` is called there if anything fails, so the pipeline can stop the
    /// other stages.
    func start(mode gate: LoadModeGate, input: BoundedQueue<CopyChunk>, group: DispatchGroup,
               onFailure: @escaping @Sendable (PassFailure) -> Void) {
        queue.async(group: group) { [self] in
            withSession { session in
                var mode = LoadMode.staging
                do {
                    if let failure = session.failure { throw failure }
                    guard let connection = session.connection else { throw noConnection }
                    // The validator decides, from the first rows, where they go.
                    guard let decided = gate.wait() else { return }
                    mode = decided
                    session.mode = mode
                    session.stagedRows = try copy(input, mode: mode, connection, session.configuration)
                } catch {
                    input.cancel()
                    session.failure = error
                    if mode == .direct, let error = error as? PostgresError, error.sqlState == SQLState.uniqueViolation {
                        onFailure(.keyExists(error))
                    } else {
                        onFailure(.failed(error))
                    }
                }
            }
        }
    }

    private func copy(_ input: BoundedQueue<CopyChunk>, mode: LoadMode, _ connection: Connection,
                      _ configuration: WriterConfiguration) throws -> Int {
        let started = Date()
        defer { logger.debug("writer \(index + 1): COPY (\(mode)) ended after \(String(format: "%.3f", Date().timeIntervalSince(started))) s") }
        // A direct COPY keeps Citus's default of many connections per worker: for 200k
        // rows into scores, 4 made it slower.
        if mode != .direct { try configuration.distribution.prepareSession(connection) }
        if mode != .direct && !configuration.twoPhase && !configuration.stagesInShards {
            try connection.execute(StagingSQL.stagingTable(temporary: true))
        }
        let target = mode == .direct ? "scores (\(StagingSQL.allColumns.joined(separator: ", ")))" : "greyoak_stage"
        return try connection.copyIn("COPY \(target) FROM STDIN (FORMAT binary)") { sink in
            try sink.send(CopyEncoder.header)
            if mode == .direct && configuration.sortBudget > 0 {
                // Straight into the indexed table: in key order, a sorted run at a time.
                try KeyOrderRuns.stream(input, budget: configuration.sortBudget, order: configuration.sortOrder) { try sink.send($0) }
            } else {
                while let chunk = input.take() { try sink.send(chunk.rows.bytes) }
            }
            try sink.send(CopyEncoder.trailer)
        }
    }

    /// Opens the writer's transaction. Temporary tables live in local buffers: they get room
    /// before their first use, set for this transaction only, so that no setting outlives it
    /// on a pooled server session. A server session that has used temporary tables keeps the
    /// size it had (PostgreSQL refuses a change then).
    private func begin(_ connection: Connection) throws {
        try connection.execute("BEGIN")
        if connection.pooled, let backend = Int32(try connection.execute("SELECT pg_backend_pid()")[0, 0] ?? "") {
            pid.store(backend, ordering: .relaxed)
        }
        try connection.execute("""
            DO $$ BEGIN SET LOCAL temp_buffers = '256MB'; EXCEPTION WHEN invalid_parameter_value THEN NULL; END $$
            """)
    }

    private var noConnection: PostgresError {
        PostgresError(code: .connectionClosed, message: "writer \(index + 1) has no connection")
    }

    func waitForConnection() -> (any Error)? {
        queue.sync { withSession { $0.failure ?? ($0.connection == nil ? noConnection : nil) } }
    }

    /// Readies a writer whose attempt was abandoned to stage the same rows again: the
    /// transaction rolled back and a new one begun on the same connection, which saves a
    /// handshake and keeps the connection slot (a busy server might not give it back).
    func reopen() throws {
        try queue.sync {
            try withSession { session in
                guard let connection = session.connection else { throw session.failure ?? noConnection }
                try connection.execute("ROLLBACK")
                try begin(connection)
                session.failure = nil
                session.stagedRows = 0
                session.mode = .staging
            }
        }
    }

    func waitForLoad() -> PassFailure? {
        queue.sync { withSession { $0.failure.map(PassFailure.failed) } }
    }

    /// Finds keys staged more than once. With `.last`, deletes all but the last of each and
    /// returns nothing; with `.error`, returns up to `limit` groups and the number of groups.
    ///
    /// - Parameter candidates: The only keys that can be duplicates (from the validator's
    ///   ``DuplicateFilter``); `nil` means any key can, which costs a full `GROUP BY`.
    func duplicates(policy: DuplicatePolicy, candidates: [(String, Int64, Mode)]?, limit: Int) throws -> (groups: [DuplicateGroup], total: Int) {
        if let candidates, candidates.isEmpty { return ([], 0) }
        return try onQueue { connection, session in
            let parameters = candidates.map(Self.candidateParameters) ?? []
            let filter = candidates == nil ? "" : StagingSQL.candidateFilter
            if policy == .last {
                session.stagedRows -= try timed(connection, "keep the last duplicate", StagingSQL.keepLast(filter: filter), parameters).affectedRows
                return ([], 0)
            }
            let result = try timed(connection, "duplicate check", StagingSQL.duplicateGroups(filter: filter, limit: limit), parameters)
            let groups = (0..<result.rowCount).map { row in Self.duplicateGroup((0..<6).map { result[row, $0] }) }
            return (groups, result.rowCount > 0 ? Int(result[0, 6] ?? "") ?? 0 : 0)
        }
    }

    /// The duplicate check's parameters for `candidates`: three arrays (tickers, timestamps
    /// in microseconds, mode names) in PostgreSQL's text form.
    static func candidateParameters(_ candidates: [(String, Int64, Mode)]) -> [String?] {
        func array(_ items: [String]) -> String { "{" + items.map { "\"\($0)\"" }.joined(separator: ",") + "}" }
        return [array(candidates.map(\.0)), array(candidates.map { String($0.1) }), array(candidates.map(\.2.name))]
    }

    /// A row of ``StagingSQL/duplicateGroups(filter:limit:)``: ticker, date, mode, the first
    /// and second places (file index in the high bits, line or record below bit 40), and
    /// how many places there are.
    static func duplicateGroup(_ row: [String?]) -> DuplicateGroup {
        func number(_ column: Int) -> Int { Int(row[column] ?? "") ?? 0 }
        func place(_ column: Int) -> (file: Int, ordinal: Int) { (number(column) >> 40, number(column) & 0xFF_FFFF_FFFF) }
        return DuplicateGroup(ticker: row[0] ?? "", scoringDate: row[1] ?? "", mode: row[2] ?? "",
                              first: place(3), second: place(4), places: number(5))
    }

    /// Writes what changed, and nothing else. Returns (inserted, updated).
    ///
    /// Staged rows whose scoring_date `scores` does not hold yet (a backfill of new days,
    /// the nightly load) are new for certain: they go in by a plain INSERT in key order, with
    /// no join. Rows of dates already present are classified by one join with `scores` as
    /// new, changed or unchanged; changed rows are updated in place (by ctid), new ones
    /// inserted, unchanged ones never written.
    func upsert() throws -> (inserted: Int, updated: Int) {
        try onQueue { connection, session in
            let configuration = session.configuration
            // A re-ingest compared in the client may have sent nothing.
            if session.stagedRows == 0 { return (0, 0) }
            // Room for the join's hash table and the sort before the insert.
            try connection.execute("SET LOCAL work_mem = '256MB'")
            if configuration.distribution == .citus {
                // The transaction's own now(), as a value: Citus wants DO UPDATE's expressions immutable.
                let now = try connection.execute("SELECT now()::timestamp::text")[0, 0]
                let result = try timed(connection, "upsert (Citus)", StagingSQL.citusUpsert, [now])
                // The shared table's rows would become visible at COMMIT.
                if configuration.stagesInShards { _ = try timed(connection, "empty greyoak_stage", "DELETE FROM greyoak_stage") }
                return (Int(result[0, 0] ?? "0") ?? 0, Int(result[0, 1] ?? "0") ?? 0)
            }
            let present = try timed(connection, "dates already loaded, tickers", StagingSQL.presentDatesAndTickers)
            let dates = present[0, 0] ?? "{}", tickers = present[0, 1] ?? "{}"
            let total = session.stagedRows
            var inserted = 0, updated = 0
            if dates != "{}" {
                let result = try timed(connection, "upsert into loaded dates", StagingSQL.upsert, [dates, tickers])
                inserted += Int(result[0, 0] ?? "0") ?? 0
                updated += Int(result[0, 1] ?? "0") ?? 0
            }
            if dates == "{}" || inserted + updated < total {
                inserted += try timed(connection, "insert new dates", StagingSQL.insertNewDates, [dates]).affectedRows
            }
            return (inserted, updated)
        }
    }

    /// Commits, running `decision` (the journal and ledger rows) first in the same transaction.
    func commit(with decision: [(String, [String?])] = []) throws {
        try onQueue { connection, _ in
            for (sql, parameters) in decision { try connection.execute(sql, parameters) }
            try connection.execute("COMMIT")
        }
    }

    /// Prepares the transaction as `gid`, after deleting what it staged in the shared table
    /// (which would otherwise become visible at COMMIT PREPARED).
    func prepareTransaction(_ gid: String) throws {
        try onQueue { connection, session in
            if session.mode != .direct && session.stagedRows > 0 { _ = try timed(connection, "empty greyoak_stage", "DELETE FROM greyoak_stage") }
            try connection.execute("PREPARE TRANSACTION '\(gid)'")
            session.prepared = true
        }
    }

    func rollback() {
        queue.sync {
            withSession { session in
                if !session.prepared { _ = try? session.connection?.execute("ROLLBACK") }
                session.connection?.close()
                session.connection = nil
            }
        }
    }

    func close() {
        queue.sync {
            withSession { session in
                session.connection?.close()
                session.connection = nil
            }
        }
    }

    /// Runs a statement, logging its time at debug level: where a load spends its time.
    private func timed(_ connection: Connection, _ label: String, _ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let started = Date()
        let result = try connection.execute(sql, parameters)
        logger.debug("writer \(index + 1): \(label) took \(String(format: "%.3f", Date().timeIntervalSince(started))) s (\(result.affectedRows) rows)")
        return result
    }

    /// Runs `body` on the writer's queue with its connection, unless the writer failed.
    private func onQueue<T: Sendable>(_ body: (Connection, inout Session) throws -> T) throws -> T {
        try queue.sync {
            try withSession { session in
                if let failure = session.failure { throw failure }
                guard let connection = session.connection else { throw noConnection }
                do {
                    return try body(connection, &session)
                } catch let error as PostgresError {
                    throw error.during("writer \(index + 1)")
                }
            }
        }
    }

    /// The session, on the writer's queue (where alone it is used).
    private func withSession<T: Sendable>(_ body: (inout Session) throws -> T) rethrows -> T {
        dispatchPrecondition(condition: .onQueue(queue))
        return try session.withLock { try body(&$0) }
    }
}
