import Dispatch
import Foundation
import Logging
import Synchronization
import GreyoakPostgres

/// The new partitions of one load, made ready to attach: loaded by the ``AttachLoader``
/// (standalone tables, binary COPY with FREEZE in the transaction that created each, committed
/// and not attached, so no reader sees them), then, once all are loaded, the primary key and
/// the parent's other indexes built on each (the CHECK that matches its bound came with the table). What is
/// left is ``AttachSQL/attach(_:policy:)``, which the load's commit point runs.
///
/// The builds go over the loader's connections one index build at a time, so that they end
/// together, and one big month still builds on all of them. None of these connections is part of the load's commit: what they commit is
/// invisible until the attach, and a load that does not reach its commit point drops it
/// (``AttemptEffects``; after a crash, ``AttachLeftovers``).
final class AttachBuilder: Sendable {
    struct Timings: Sendable {
        var copySeconds = 0.0
        var indexSeconds = 0.0
    }

    /// A key the input holds twice among the new partitions' rows.
    struct DuplicateKey: Error {
        let error: PostgresError
    }

    let partitions: [AttachSpool.Partition]
    private let loader: AttachLoader
    private let logger: Logger

    init(loader: AttachLoader, partitions: [AttachSpool.Partition], logger: Logger) {
        self.loader = loader
        self.partitions = partitions
        self.logger = logger
    }

    func table(_ partition: AttachSpool.Partition) -> String { loader.table(partition) }

    /// What the attach statement needs, by partition.
    var attachList: [(table: String, final: String, low: Int64, high: Int64)] {
        partitions.map { (table($0), $0.name, $0.low, $0.high) }
    }

    var rows: Int { partitions.reduce(0) { $0 + $1.rows } }

    /// Waits for the loader, then dedups (`--on-duplicate last`), indexes and checks every new
    /// partition.
    ///
    /// - Parameter keepLast: The keys that may repeat, to keep the last row of each; nil
    ///   with `--on-duplicate error`, where the primary key's build finds a repeat.
    /// - Returns: The rows removed as earlier duplicates, and the time of each phase.
    /// - Throws: ``DuplicateKey`` when the primary key's build finds a repeated key.
    func build(coordinator: Connection, keepLast: DuplicateFilter?) throws -> (removed: Int, timings: Timings) {
        let indexes = try coordinator.execute(AttachSQL.parentIndexes).rows.map { row in
            AttachSQL.Index(name: row[0] ?? "", definition: row[1] ?? "", constraint: row[2] == nil ? nil : row[3],
                            isPrimaryKey: row[2] == "p")
        }
        let owner = try coordinator.execute("""
            SELECT quote_ident(pg_get_userbyid(relowner)), pg_get_userbyid(relowner) <> current_user
            FROM pg_class WHERE oid = to_regclass('scores')
            """).rows.first
        defer { loader.close() }
        var timings = Timings()
        let (connections, copySeconds) = try loader.finish(partitions)
        timings.copySeconds = copySeconds
        logger.debug("new partitions: \(partitions.count) loaded (\(rows) rows); COPY from first to last \(String(format: "%.3f", copySeconds)) s")
        let started = Date()
        var removed = 0
        if let keepLast {
            let removedRows = Mutex(0)
            // Each partition's candidates (nil: any key may repeat).
            let jobs = partitions.map { partition in
                (partition, keepLast.overflowed ? nil : keepLast.candidates[0].filter { $0.1 >= partition.low && $0.1 < partition.high })
            }
            try run(connections, jobs: jobs) { connection, job in
                let count = try self.keepLastRows(job.0, job.1, connection)
                removedRows.withLock { $0 += count }
            }
            removed = removedRows.withLock { $0 }
        }
        let memory = Self.maintenanceMemory(largest: partitions.map(\.bytes).max() ?? 0, writers: connections.count)
        let serial = connections.count > 1
        // Single builds spread over all the connections, each taking the next when it is free:
        // every primary key first (a repeated key stops the run before the other builds), then
        // the other indexes, larger partitions first in each. Whole partitions a writer (one
        // transaction each) left one writer idle at the end for most of a partition's builds,
        // 0.19 s of a 1.57 s phase (10 months, 2 writers); single builds leave at most one build.
        let bySize = partitions.sorted { $0.bytes > $1.bytes }
        let jobs = [indexes.filter(\.isPrimaryKey), indexes.filter { !$0.isPrimaryKey }].flatMap { batch in
            bySize.flatMap { partition in batch.map { (partition, $0) } }
        }
        try run(connections, jobs: jobs) { connection, job in
            try self.inBuildTransaction(connection, memory: memory, serial: serial) { try self.build(job.1, on: job.0, connection) }
        }
        try run(connections, jobs: partitions) { connection, partition in
            try self.inBuildTransaction(connection, memory: memory, serial: serial) { try self.finish(partition, owner: owner, connection) }
        }
        timings.indexSeconds = Date().timeIntervalSince(started)
        logger.debug("new partitions: indexes and bounds built in \(String(format: "%.3f", timings.indexSeconds)) s (maintenance_work_mem \(memory)MB per build, \(connections.count) at a time)")
        return (removed, timings)
    }

    /// A transaction of the build phase: `maintenance_work_mem` for it alone (never a session
    /// SET: behind a pooler the session is not the load's), and `synchronous_commit` off. The
    /// tables are nobody's until the attach, whose commit flushes the WAL up to itself and so
    /// every one of these commits before it; a crash that loses one loses only a table that
    /// recovery drops.
    ///
    /// - Parameter serial: No parallel workers for a build (`max_parallel_maintenance_workers`
    ///   0), when the builds already run one per writer at once. The writers are sized to the
    ///   cores, and a parallel build of one partition's index adds processes that sort runs to
    ///   tape for its leader to merge: 1M rows into ten months took 0.9 s more of the server's
    ///   CPU that way, and its builds 18% longer (4 runs each, 2 cores). A single writer keeps
    ///   the server's setting.
    private func inBuildTransaction(_ connection: Connection, memory: Int, serial: Bool, _ body: () throws -> Void) throws {
        try connection.transaction {
            try connection.execute("SET LOCAL maintenance_work_mem = '\(memory)MB'; SET LOCAL synchronous_commit = off"
                                   + (serial ? "; SET LOCAL max_parallel_maintenance_workers = 0" : ""))
            try body()
        }
    }

    /// Builds `index` on `partition`'s table; a repeated key is a ``DuplicateKey``.
    private func build(_ index: AttachSQL.Index, on partition: AttachSpool.Partition, _ connection: Connection) throws {
        do {
            try timed(connection, "build \(index.name) on \(partition.name)", index.build(on: table(partition), final: partition.name))
        } catch let error as PostgresError where error.sqlState == SQLState.uniqueViolation && index.isPrimaryKey {
            throw DuplicateKey(error: error)
        }
    }

    /// The owner of `scores` as the table's owner (as a partition made by the migrator would
    /// have; the load role may create it only as a member of that role: ``AttachPrivileges``).
    /// The CHECK that matches the bound was made with the table (``AttachSQL/create``).
    private func finish(_ partition: AttachSpool.Partition, owner: [String?]?, _ connection: Connection) throws {
        if let owner, owner[1] == "t", let name = owner[0] {
            try connection.execute("ALTER TABLE \(table(partition)) OWNER TO \(name)")
        }
    }

    /// `maintenance_work_mem` for one build, in MB: room to sort the largest partition in
    /// memory (its COPY bytes are more than any of its indexes holds), at least 64 MB, and
    /// within 512 MB over all the builds that run at once.
    static func maintenanceMemory(largest bytes: Int, writers: Int) -> Int {
        max(64, min(bytes >> 20, 512 / max(1, writers)))
    }

    /// `--on-duplicate last` among the new rows: of each candidate key, only the row copied
    /// last stays (the COPY wrote them in input order, so that is the highest ctid).
    private func keepLastRows(_ partition: AttachSpool.Partition, _ candidates: [(String, Int64, Mode)]?, _ connection: Connection) throws -> Int {
        if let candidates, candidates.isEmpty { return 0 }
        let table = table(partition)
        let narrow = candidates == nil ? "" : """
            AND (a.ticker, a.scoring_date, a.mode) IN (
                SELECT c.ticker, timestamp '2000-01-01' + c.micros * interval '1 microsecond', c.mode
                FROM unnest($1::text[], $2::int8[], $3::text[]) AS c(ticker, micros, mode))
            """
        let parameters = candidates.map(StagingWriter.candidateParameters) ?? []
        return try connection.execute("""
            DELETE FROM \(table) a USING \(table) b
            WHERE a.ticker = b.ticker AND a.scoring_date = b.scoring_date AND a.mode = b.mode AND a.ctid < b.ctid \(narrow)
            """, parameters).affectedRows
    }

    private func timed(_ connection: Connection, _ label: String, _ sql: String) throws {
        let started = Date()
        try connection.execute(sql)
        logger.debug("new partitions: \(label) took \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
    }

    /// Runs `jobs` over the connections, each taking the next job when it is free; the first
    /// failure stops the others taking more, and is thrown.
    private func run<Job: Sendable>(_ connections: [ConnectionBox], jobs: [Job], _ body: @Sendable (Connection, Job) throws -> Void) throws {
        let next = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: min(connections.count, jobs.count)) { index in
            let connection = connections[index].connection
            while failure.withLock({ $0 == nil }) {
                let job = next.add(1, ordering: .relaxed).oldValue
                guard job < jobs.count else { return }
                do {
                    try body(connection, jobs[job])
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
