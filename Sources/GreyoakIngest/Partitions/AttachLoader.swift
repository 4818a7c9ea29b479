import Dispatch
import Foundation
import Logging
import Synchronization
import GreyoakPostgres

/// The COPY phase of the new partitions, overlapping the pass over the input: as soon as the
/// ``AttachSpool`` seals a partition (the input's dates have moved past it, as a backfill's
/// date-ordered files do; else at the end of the input), a writer takes it whole and, in one
/// transaction, creates its standalone table and binary-COPYs its rows with FREEZE, then
/// commits. Rows of a sealed partition that come later after all are COPYed into its table at
/// the end (``copyLate(_:)``), in a transaction of their own (no FREEZE there: the table is
/// not new in it), so any input order is right, and a date-ordered one is fast.
///
/// `writers` connections of its own, opened when the first partition is sealed; none is part
/// of the load's commit (see ``AttachBuilder``). A failure stops the writers; ``finish()``
/// throws it.
final class AttachLoader: Sendable {
    let load: Int64
    let layout: PartitionLayout
    private let settings: ConnectionSettings
    private let writers: Int
    private let logger: Logger
    private let spool: Mutex<AttachSpool?> = Mutex(nil)
    private let queue = BoundedQueue<AttachSpool.Partition>(capacity: 1 << 16)
    private let group = DispatchGroup()

    private struct State {
        var started = false
        var connections: [ConnectionBox] = []
        var failure: (any Error)?
        var connectFailure: (any Error)?
        var firstCopy: Date?
        var lastCopy: Date?
        var made: [String] = []
    }

    private let state = Mutex(State())
    private let paused: Mutex<Bool>

    /// - Parameter startsPaused: Load nothing before ``finish(_:)`` (a default partition is to
    ///   be checked first: nothing is created if it blocks the attach).
    init(load: Int64, layout: PartitionLayout, settings: ConnectionSettings, writers: Int, startsPaused: Bool, logger: Logger) {
        self.paused = Mutex(startsPaused)
        self.load = load
        self.layout = layout
        self.settings = settings
        self.writers = max(1, writers)
        self.logger = logger
    }

    /// The spool whose partitions this loads (it calls ``sealed(_:)``).
    func attach(_ spool: AttachSpool) { self.spool.withLock { $0 = spool } }

    func table(_ partition: AttachSpool.Partition) -> String {
        AttachSQL.table(load: load, suffix: String(partition.name.dropFirst(layout.namePrefix.count)))
    }

    /// The tables made so far.
    var made: [String] { state.withLock { $0.made } }

    /// A partition whose rows are all in the spool (but late ones): load it.
    func sealed(_ partition: AttachSpool.Partition) {
        _ = queue.put(partition)
        startWriters()
    }

    private func startWriters() {
        guard !paused.withLock({ $0 }) else { return }
        let start = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard start else { return }
        for index in 0..<writers {
            DispatchQueue.global().async(group: group) { [self] in work(index) }
        }
    }

    private func work(_ index: Int) {
        let connection: Connection
        do {
            connection = try Connection(settings.named("attach writer \(index + 1)"), logger: logger)
        } catch {
            // Others may have connected (a server short of connections): they load it all.
            state.withLock { $0.connectFailure = $0.connectFailure ?? error }
            return
        }
        state.withLock { $0.connections.append(ConnectionBox(connection)) }
        while let partition = queue.take() {
            guard let spool = spool.withLock({ $0 }) else { return }
            do {
                try copy(partition, spool, connection)
            } catch {
                state.withLock { $0.failure = $0.failure ?? error }
                queue.cancel()
                return
            }
        }
    }

    /// Creates the partition's table and COPYs its rows with FREEZE, in one transaction
    /// committed asynchronously (see ``AttachBuilder``: the attach's commit flushes it).
    private func copy(_ partition: AttachSpool.Partition, _ spool: AttachSpool, _ connection: Connection) throws {
        let table = table(partition)
        let started = Date()
        state.withLock { $0.firstCopy = $0.firstCopy ?? started }
        try connection.transaction {
            try connection.execute("SET LOCAL synchronous_commit = off")
            try connection.execute(AttachSQL.create(table, low: partition.low, high: partition.high))
            state.withLock { $0.made.append(table) }
            let copied = try connection.copyIn(AttachSQL.copy(table, freeze: true)) { sink in
                try sink.send(CopyEncoder.header)
                try spool.read(partition.segments) { try sink.send($0) }
                try sink.send(CopyEncoder.trailer)
            }
            logger.debug("new partition \(partition.name): COPY of \(copied) rows took \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
        }
        state.withLock { $0.lastCopy = Date() }
    }

    /// After the pass: waits for every sealed partition to be loaded, then COPYs the late
    /// rows. Returns the connections (for the builds; the caller closes them with
    /// ``close()``) and the COPY phase's time, from its first COPY to its last.
    func finish(_ partitions: [AttachSpool.Partition]) throws -> (connections: [ConnectionBox], seconds: Double) {
        paused.withLock { $0 = false }
        startWriters()
        queue.close()
        group.wait()
        let (connections, failure, connectFailure) = state.withLock { ($0.connections, $0.failure, $0.connectFailure) }
        if let failure { throw failure }
        if let connectFailure {
            // Nobody took what is left: no connection opened at all.
            if case .item = queue.poll() { throw connectFailure }
            logger.warning("only \(connections.count) of \(writers) connections for new partitions opened (\(connectFailure)); loaded with \(connections.count)")
        }
        guard let spool = spool.withLock({ $0 }), let first = connections.first?.connection else {
            throw GreyoakError(.databaseError, "no connection for the new partitions could be opened")
        }
        for partition in partitions where !partition.late.isEmpty {
            let table = table(partition)
            try first.transaction {
                try first.execute("SET LOCAL synchronous_commit = off")
                let copied = try first.copyIn(AttachSQL.copy(table, freeze: false)) { sink in
                    try sink.send(CopyEncoder.header)
                    try spool.read(partition.late) { try sink.send($0) }
                    try sink.send(CopyEncoder.trailer)
                }
                logger.debug("new partition \(partition.name): \(copied) rows that came after it was sealed, COPYed")
            }
            state.withLock { $0.lastCopy = Date() }
        }
        let seconds = state.withLock { state in
            guard let first = state.firstCopy, let last = state.lastCopy else { return 0.0 }
            return last.timeIntervalSince(first)
        }
        return (connections, seconds)
    }

    /// Stops loading (a pass abandoned or refused): the writer's COPY under way ends first.
    func stop() {
        queue.cancel()
        if state.withLock({ $0.started }) { group.wait() }
    }

    /// Closes the writers' connections (and lets go of the spool, which holds this loader).
    func close() {
        spool.withLock { $0 = nil }
        state.withLock { state in
            state.connections.forEach { $0.connection.close() }
            state.connections = []
        }
    }
}

/// One connection, used by one thread at a time (see ``AttachLoader``, ``AttachBuilder``).
final class ConnectionBox: @unchecked Sendable {
    let connection: Connection
    init(_ connection: Connection) { self.connection = connection }
}
