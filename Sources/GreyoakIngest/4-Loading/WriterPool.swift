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
    private(set) var writers: [StagingWriter]
    private let settings: ConnectionSettings
    private let logger: Logger

    /// Starts `count` connections in the background: the handshakes overlap the
    /// coordinator's schema gate, and no writer writes before it passed.
    init(count: Int, settings: ConnectionSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        writers = []
        writers = makeWriters(count)
    }

    private func makeWriters(_ count: Int) -> [StagingWriter] {
        let writers = (0..<count).map { StagingWriter(index: $0) }
        for writer in writers { writer.prepare(settings: settings.named("writer \(writer.index + 1)"), logger: logger) }
        return writers
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
        if connected.isEmpty {
            for delay in [0.05, 0.1, 0.2, 0.4, 0.8, 1.6] {
                Thread.sleep(forTimeInterval: delay)
                let writer = makeWriters(1)
                if writer[0].waitForConnection() == nil {
                    connected = writer
                    break
                }
            }
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
            writer.twoPhase = twoPhase
            writer.distribution = distribution
            writer.stagesInShards = stagesInShards
            writer.sortBudget = KeyOrderRuns.totalBudget / max(1, count)
            writer.sortOrder = count == 1 ? .key : .modeFirst(writer.index % 2 == 0 ? .investor : .trader)
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
