import Dispatch
import Foundation
import Logging
import Synchronization
import GreyoakPostgres

/// The writer connections of one run, and what the run does with all of them at once:
/// connect, find duplicates, upsert, roll back (commit is in `WriterPool+Commit.swift`).
///
/// Writers own disjoint ticker ranges (a key always lands on the same writer); none commits
/// before all have finished their upsert, and any failure rolls all of them back. Used from
/// the coordinator's thread; each writer runs its statements on its own queue.
final class WriterPool {
    /// The writers, once ``connect()`` returned: only those that connected.
    private(set) var writers: [any LoadWriter]
    private let makeWriter: (Int) -> any LoadWriter
    private let logger: Logger
    /// How long one writer alone keeps trying when none could connect.
    static let reconnect = Backoff(initial: 0.05, maximum: 1.6)
    static let reconnectTries = 6
    private let clock: any RetryClock

    /// Starts `count` connections in the background: the handshakes overlap the
    /// coordinator's schema gate, and no writer writes before it passed.
    convenience init(count: Int, settings: ConnectionSettings, logger: Logger) {
        self.init(count: count, logger: logger) { index in
            StagingWriter(index: index, settings: settings.named("writer \(index + 1)"), logger: logger)
        }
    }

    /// `count` writers made by `makeWriter` (index from 0); tests pass fakes.
    init(count: Int, logger: Logger, clock: any RetryClock = SystemRetryClock(), makeWriter: @escaping (Int) -> any LoadWriter) {
        self.makeWriter = makeWriter
        self.logger = logger
        self.clock = clock
        writers = (0..<count).map(makeWriter)
    }

    var count: Int { writers.count }
    /// The writers' server processes, for the lock watcher.
    var backendPIDs: [Int32] { writers.compactMap(\.backendPID) }
    /// Rows the writers' COPYs took, after `--on-duplicate last` removed repeats.
    var stagedRows: Int { writers.reduce(0) { $0 + $1.stagedRows } }

    /// Keeps the writers that connected. On a server near `max_connections`, or under a
    /// role's or database's connection limit, some may not have: the load goes on with
    /// fewer, and says so. When none did (writers racing for the last slot can all lose it),
    /// one writer tries again alone for a few seconds: a closed connection's slot frees when
    /// its server process has exited.
    ///
    /// - Throws: The first writer's connection error when none could connect.
    func connect() throws {
        let failures = writers.map { $0.waitForConnection() }
        guard let failure = failures.lazy.compactMap({ $0 }).first else { return }
        var connected = zip(writers, failures).filter { $0.1 == nil }.map(\.0)
        var retry = RetryDeadline(Self.reconnect, retries: Self.reconnectTries, clock: clock)
        while connected.isEmpty && retry.pause() {
            let writer = makeWriter(0)
            if writer.waitForConnection() == nil { connected = [writer] }
        }
        guard !connected.isEmpty else { throw failure }
        logger.warning("only \(connected.count) of \(writers.count) writer connections opened (\(failure)); loading with \(connected.count)")
        writers = connected
    }

    /// Keeps the first `count` writers (the commit method may allow fewer than connected)
    /// and tells them how the load will commit.
    func keep(_ count: Int, twoPhase: Bool, distribution: TableDistribution, stagesInShards: Bool = false) {
        writers[count...].forEach { $0.close() }
        writers = Array(writers.prefix(count))
        for writer in writers {
            writer.configure(WriterConfiguration(
                twoPhase: twoPhase, distribution: distribution, stagesInShards: stagesInShards,
                sortBudget: KeyOrderRuns.totalBudget / max(1, count),
                sortOrder: count == 1 ? .key : .modeFirst(writer.index % 2 == 0 ? .investor : .trader)))
        }
    }

    /// Readies every writer to stage the same rows again after an abandoned direct COPY.
    func reopen() throws {
        for writer in writers { try writer.reopen() }
    }

    /// Finds keys staged more than once, writer by writer (a key always lands on the same
    /// writer). With `--on-duplicate last` it removes the repeats and finds nothing.
    ///
    /// - Parameter filter: The validator's candidates; nil (or overflowed) means any key can
    ///   repeat.
    /// - Returns: Up to `limit` groups per writer, and how many repeated keys there are in all.
    func duplicates(policy: DuplicatePolicy, filter: DuplicateFilter?, limit: Int) throws -> (groups: [DuplicateGroup], total: Int) {
        var groups: [DuplicateGroup] = []
        var total = 0
        for (index, writer) in writers.enumerated() {
            let candidates = filter.map { $0.overflowed ? nil : $0.candidates[index] } ?? nil
            let found = try writer.duplicates(policy: policy, candidates: candidates, limit: limit)
            total += found.total
            groups += found.groups
        }
        return (groups, total)
    }

    /// Upserts on every writer at once; rolls all back and throws the first writer's error
    /// if any fails. The caller holds the ``LoadLock``.
    func upsert() throws -> (inserted: Int, updated: Int) {
        let writers = self.writers
        let results = Mutex<[Result<(inserted: Int, updated: Int), any Error>?]>(Array(repeating: nil, count: writers.count))
        DispatchQueue.concurrentPerform(iterations: writers.count) { index in
            let result = Result { try writers[index].upsert() }
            results.withLock { $0[index] = result }
        }
        var inserted = 0, updated = 0
        for result in results.withLock({ $0 }) {
            switch result! {
            case let .success(counts):
                inserted += counts.inserted
                updated += counts.updated
            case let .failure(error):
                rollback()
                throw error
            }
        }
        return (inserted, updated)
    }

    /// Rolls every writer back and closes its connection.
    func rollback() {
        writers.forEach { $0.rollback() }
    }

    func close() {
        writers.forEach { $0.close() }
    }
}
