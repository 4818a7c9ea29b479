import Dispatch
import Foundation
import Logging
import GreyoakPostgres

/// One writer connection of an ingest: its own transaction, a temporary staging table fed
/// by binary COPY, the duplicate check and the upsert into `scores`.
///
/// `connection` and `failure` are touched only on `queue` (checked with
/// `dispatchPrecondition`), so the libpq connection is used by one thread at a time; other
/// threads talk to it only through `queue` and the ``input`` queue.
final class StagingWriter: @unchecked Sendable {  // the connection is used only on `queue` (see above)
    let index: Int
    /// COPY data from the validator; closing it ends the COPY. Replaced only by ``reopen()``,
    /// before the stages of the next attempt start.
    private(set) var input: BoundedQueue<CopyChunk>
    private let queueCapacity: Int
    private let queue: DispatchQueue
    private var connection: Connection?
    private var failure: (any Error)?
    /// Rows the COPY took (into the staging table, or straight into `scores`).
    private(set) var stagedRows = 0
    private(set) var mode = LoadMode.staging
    private var logger: Logger?
    /// Stage in the shared table and end by preparing (a two-phase load); set before ``start``.
    var twoPhase = false
    /// How `scores` is placed, which picks the upsert's statements; set before ``upsert()``.
    var distribution = TableDistribution.local
    /// On Citus: stage in the shards of the permanent `greyoak_stage`, beside `scores`' (see
    /// ``SharedStaging/followScores(_:logger:)``), not in a temporary table on the coordinator.
    var stagesInShards = false
    /// After ``prepareTransaction(_:)``: the session has no transaction left to roll back.
    private var prepared = false
    /// The server process of this writer's session (behind a pooler: of its transaction, which
    /// keeps one), to wait for its end after a failure and to name who blocks it.
    private(set) var backendPID: Int32?
    /// Bytes of a direct COPY's rows held to put them in key order before they are sent (see
    /// ``KeyOrderRuns``); 0 sends them as they come. Set before ``start``.
    var sortBudget = 0
    /// The order of a direct COPY's rows within a run (``KeyOrderRuns/Order``).
    var sortOrder = KeyOrderRuns.Order.key

    init(index: Int, queueCapacity: Int = 3) {
        self.index = index
        self.queueCapacity = queueCapacity
        input = BoundedQueue(capacity: queueCapacity)
        queue = DispatchQueue(label: "greyoak.writer.\(index)")
    }

    /// Connects and opens the transaction, in the background: the connection handshake
    /// (SCRAM costs tens of milliseconds) overlaps the coordinator's schema gate.
    func prepare(settings: ConnectionSettings, logger: Logger) {
        queue.async { [self] in
            dispatchPrecondition(condition: .onQueue(queue))
            self.logger = logger
            do {
                let connection = try Connection(settings, logger: logger)
                self.connection = connection
                backendPID = connection.backendPID
                try begin(connection)
            } catch {
                failure = error
            }
        }
    }

    /// Streams ``input`` into `scores` (direct mode) or the staging table until it is
    /// closed, once the validator has set the mode. Runs asynchronously on the writer's
    /// queue after ``prepare(settings:logger:)``; `onFailure` is called there if anything
    /// fails, so the pipeline can stop the other stages.
    func start(mode: LoadModeGate, group: DispatchGroup, onFailure: @escaping @Sendable (any Error) -> Void) {
        queue.async(group: group) { [self] in
            dispatchPrecondition(condition: .onQueue(queue))
            do {
                if let failure { throw failure }
                guard let connection else { throw noConnection }
                // The validator decides, from the first rows, where they go.
                guard let mode = mode.wait() else { return }
                self.mode = mode
                let started = Date()
                defer { logger?.debug("writer \(index + 1): COPY (\(mode)) ended after \(String(format: "%.3f", Date().timeIntervalSince(started))) s") }
                // A direct COPY keeps Citus's default of many connections per worker: for 200k
                // rows into scores, 4 made it slower.
                if mode != .direct { try distribution.prepareSession(connection) }
                if mode != .direct && !twoPhase && !stagesInShards { try connection.execute(StagingSQL.stagingTable(temporary: true)) }
                let target = mode == .direct ? "scores (\(StagingSQL.allColumns.joined(separator: ", ")))" : "greyoak_stage"
                stagedRows = try connection.copyIn("COPY \(target) FROM STDIN (FORMAT binary)") { sink in
                    try sink.send(CopyEncoder.header)
                    if mode == .direct && sortBudget > 0 {
                        // Straight into the indexed table: in key order, a sorted run at a time.
                        try KeyOrderRuns.stream(input, budget: sortBudget, order: sortOrder) { try sink.send($0) }
                    } else {
                        while let chunk = input.take() { try sink.send(chunk.rows.bytes) }
                    }
                    try sink.send(CopyEncoder.trailer)
                }
            } catch {
                input.cancel()
                failure = error
                onFailure(error)
            }
        }
    }

    /// Opens the writer's transaction. Temporary tables live in local buffers: they get room
    /// before their first use, set for this transaction only, so that no setting outlives it
    /// on a pooled server session. A server session that has used temporary tables keeps the
    /// size it had (PostgreSQL refuses a change then).
    private func begin(_ connection: Connection) throws {
        try connection.execute("BEGIN")
        if connection.pooled { backendPID = Int32(try connection.execute("SELECT pg_backend_pid()")[0, 0] ?? "") }
        try connection.execute("""
            DO $$ BEGIN SET LOCAL temp_buffers = '256MB'; EXCEPTION WHEN invalid_parameter_value THEN NULL; END $$
            """)
    }

    private var noConnection: PostgresError {
        PostgresError(code: .connectionClosed, message: "writer \(index + 1) has no connection")
    }

    /// Waits for ``prepare(settings:logger:)`` to finish; the error if the writer could not
    /// connect or begin its transaction.
    func waitForConnection() -> (any Error)? {
        queue.sync { failure ?? (connection == nil ? noConnection : nil) }
    }

    /// Readies a writer whose attempt was abandoned to stage the same rows again: the
    /// transaction rolled back and a new one begun on the same connection, which saves a
    /// handshake and keeps the connection slot (a busy server might not give it back).
    func reopen() throws {
        try queue.sync {
            guard let connection else { throw failure ?? noConnection }
            try connection.execute("ROLLBACK")
            try begin(connection)
            failure = nil
            stagedRows = 0
            mode = .staging
            input = BoundedQueue(capacity: queueCapacity)
        }
    }

    /// Waits for the COPY to end and returns its error, if any.
    func waitForLoad() -> (any Error)? {
        queue.sync { failure }
    }

    /// Finds keys staged more than once. With `.last`, deletes all but the last of each and
    /// returns nothing; with `.error`, returns up to `limit` groups and the number of groups.
    ///
    /// - Parameter candidates: The only keys that can be duplicates (from the validator's
    ///   ``DuplicateFilter``); `nil` means any key can, which costs a full `GROUP BY`.
    func duplicates(policy: DuplicatePolicy, candidates: [(String, Int64, Mode)]?, limit: Int) throws -> (groups: [DuplicateGroup], total: Int) {
        if let candidates, candidates.isEmpty { return ([], 0) }
        return try onQueue { connection in
            var parameters: [String?] = []
            if let candidates {
                func array(_ items: [String]) -> String { "{" + items.map { "\"\($0)\"" }.joined(separator: ",") + "}" }
                parameters = [array(candidates.map(\.0)), array(candidates.map { String($0.1) }), array(candidates.map(\.2.name))]
            }
            let filter = candidates == nil ? "" : StagingSQL.candidateFilter
            if policy == .last {
                stagedRows -= try timed(connection, "keep the last duplicate", StagingSQL.keepLast(filter: filter), parameters).affectedRows
                return ([], 0)
            }
            let result = try timed(connection, "duplicate check", StagingSQL.duplicateGroups(filter: filter, limit: limit), parameters)
            let groups = (0..<result.rowCount).map { row in
                func number(_ column: Int) -> Int { Int(result[row, column] ?? "") ?? 0 }
                func place(_ column: Int) -> (file: Int, ordinal: Int) { (number(column) >> 40, number(column) & 0xFF_FFFF_FFFF) }
                return DuplicateGroup(ticker: result[row, 0] ?? "", scoringDate: result[row, 1] ?? "", mode: result[row, 2] ?? "",
                                      first: place(3), second: place(4), places: number(5))
            }
            return (groups, result.rowCount > 0 ? Int(result[0, 6] ?? "") ?? 0 : 0)
        }
    }

    /// Writes what changed, and nothing else. Returns (inserted, updated).
    ///
    /// Staged rows whose scoring_date `scores` does not hold yet (a backfill of new days,
    /// the nightly load) are new for certain: they go in by a plain INSERT in key order, with
    /// no join. Rows of dates already present are classified by one join with `scores` as
    /// new, changed or unchanged; changed rows are updated in place (by ctid), new ones
    /// inserted, unchanged ones never written.
    func upsert() throws -> (inserted: Int, updated: Int) {
        try onQueue { connection in
            // A re-ingest compared in the client may have sent nothing.
            if stagedRows == 0 { return (0, 0) }
            // Room for the join's hash table and the sort before the insert.
            try connection.execute("SET LOCAL work_mem = '256MB'")
            if distribution == .citus {
                // The transaction's own now(), as a value: Citus wants DO UPDATE's expressions immutable.
                let now = try connection.execute("SELECT now()::timestamp::text")[0, 0]
                let result = try timed(connection, "upsert (Citus)", StagingSQL.citusUpsert, [now])
                // The shared table's rows would become visible at COMMIT.
                if stagesInShards { _ = try timed(connection, "empty greyoak_stage", "DELETE FROM greyoak_stage") }
                return (Int(result[0, 0] ?? "0") ?? 0, Int(result[0, 1] ?? "0") ?? 0)
            }
            let present = try timed(connection, "dates already loaded, tickers", StagingSQL.presentDatesAndTickers)
            let dates = present[0, 0] ?? "{}", tickers = present[0, 1] ?? "{}"
            let total = stagedRows
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
        try onQueue { connection in
            for (sql, parameters) in decision { try connection.execute(sql, parameters) }
            try connection.execute("COMMIT")
        }
    }

    /// Prepares the transaction as `gid`, after deleting what it staged in the shared table
    /// (which would otherwise become visible at COMMIT PREPARED).
    func prepareTransaction(_ gid: String) throws {
        try onQueue { connection in
            if mode != .direct && stagedRows > 0 { _ = try timed(connection, "empty greyoak_stage", "DELETE FROM greyoak_stage") }
            try connection.execute("PREPARE TRANSACTION '\(gid)'")
            prepared = true
        }
    }

    func rollback() {
        queue.sync {
            if !prepared { _ = try? connection?.execute("ROLLBACK") }
            connection?.close()
            connection = nil
        }
    }

    func close() {
        queue.sync {
            connection?.close()
            connection = nil
        }
    }

    /// Runs a statement, logging its time at debug level: where a load spends its time.
    private func timed(_ connection: Connection, _ label: String, _ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let started = Date()
        let result = try connection.execute(sql, parameters)
        logger?.debug("writer \(index + 1): \(label) took \(String(format: "%.3f", Date().timeIntervalSince(started))) s (\(result.affectedRows) rows)")
        return result
    }

    private func onQueue<T>(_ body: (Connection) throws -> T) throws -> T {
        try queue.sync {
            dispatchPrecondition(condition: .onQueue(queue))
            if let failure { throw failure }
            guard let connection else { throw noConnection }
            do {
                return try body(connection)
            } catch let error as PostgresError {
                throw error.during("writer \(index + 1)")
            }
        }
    }
}
