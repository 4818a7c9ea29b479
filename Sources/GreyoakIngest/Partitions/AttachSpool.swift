import Foundation
import Synchronization
import GreyoakPostgres

/// The rows of one pass that go into new partitions, kept on disk by partition: a writer
/// takes a partition whole (see ``AttachLoader``) and COPYs it from here, in the transaction
/// that creates its table (so `COPY ... FREEZE` applies), whatever order the input had its
/// dates in.
///
/// A partition is *sealed* when the input's dates have moved past it (a row comes for a
/// partition that begins at or after its end), or at the end of the input: its rows so far
/// are written out and ``onSeal`` hands it to the loader, which loads it while the pass goes
/// on. Rows that come for it afterwards are kept apart (``Partition/late``) and loaded after
/// the pass. A backfill's files in date order thus overlap their COPYs with the reading.
///
/// One ``UnlinkedFile`` (nothing is left behind however the process ends); each partition's rows gather in a buffer of their own and go
/// to the file in segments. Memory is bounded by ``pendingLimit`` over all partitions, however
/// large the input: past it, every buffer is written out.
///
/// Filled by the validator (one thread), read by the writers (any thread): a segment, once
/// recorded, is never written again. The state is behind a ``Mutex``.
final class AttachSpool: Sendable {
    /// One new partition's rows in the file.
    struct Partition: Sendable {
        var name: String
        var low: Int64
        var high: Int64
        var rows = 0
        var bytes = 0
        /// Where its rows are in the file, in input order.
        var segments: [(offset: Int, length: Int)] = []
        /// Rows that came after it was sealed.
        var late: [(offset: Int, length: Int)] = []
        var sealed = false
    }

    static let segmentBytes = 256 << 10
    static let pendingLimit = 4 << 20

    private struct State {
        var partitions: [Int64: Partition] = [:]
        /// Bytes not yet written, by partition (lower bound).
        var pending: [Int64: [UInt8]] = [:]
        var pendingBytes = 0
        /// Buffers written out and emptied, their memory kept for the next ones: a fresh buffer
        /// for every segment put each of its pages through a fault and a clear, 6% of the
        /// client's CPU (perf, 1M rows). At most two are kept.
        var spare: [[UInt8]] = []
        var written = 0
        /// The partition of the last row: dates come in runs.
        var last: (low: Int64, high: Int64)?
    }

    private let file: UnlinkedFile
    let layout: PartitionLayout
    private let state = Mutex(State())
    /// Called (on the validator's thread) with each partition as it is sealed.
    private let onSeal: @Sendable (Partition) -> Void

    init(layout: PartitionLayout, onSeal: @escaping @Sendable (Partition) -> Void = { _ in }) throws {
        self.onSeal = onSeal
        guard let file = UnlinkedFile(prefix: "greyoak-attach") else {
            throw GreyoakError(.failure, "cannot create a file in \(NSTemporaryDirectory()) for the rows of new partitions",
                               hint: "set TMPDIR to a writable directory")
        }
        self.file = file
        self.layout = layout
    }

    /// Keeps the rows of `chunk` (binary COPY rows of `scores`, each with its key).
    ///
    /// A run of rows of one partition (a backfill's dates come in runs) is one append: by
    /// row, the lookups of the partition's counts and buffer were a twentieth of the client's
    /// CPU (perf, 1M rows).
    func add(_ chunk: CopyChunk) throws {
        let base = chunk.rows.bytes.baseAddress!
        let keys = chunk.keys
        try state.withLock { state in
            var index = 0
            while index < keys.count {
                let date = keys[index].date
                let bounds: (low: Int64, high: Int64)
                if let last = state.last, date >= last.low, date < last.high {
                    bounds = last
                } else {
                    bounds = layout.newBounds(for: date)
                    state.last = bounds
                    if state.partitions[bounds.low] == nil {
                        state.partitions[bounds.low] = Partition(name: layout.name(of: bounds.low), low: bounds.low, high: bounds.high)
                    }
                    // The input has moved past every partition that ends by this one's start.
                    for (low, partition) in state.partitions where !partition.sealed && partition.high <= bounds.low {
                        try seal(low, &state)
                    }
                }
                // The rows from `index` to `end` are of this partition and follow one another.
                let start = keys[index].offset
                var next = start + Int(keys[index].length)
                var end = index + 1
                while end < keys.count, keys[end].offset == next, keys[end].date >= bounds.low, keys[end].date < bounds.high {
                    next += Int(keys[end].length)
                    end += 1
                }
                let length = next - start
                state.partitions[bounds.low]!.rows += end - index
                state.partitions[bounds.low]!.bytes += length
                if state.pending[bounds.low] == nil { state.pending[bounds.low] = state.spare.popLast() ?? [] }
                state.pending[bounds.low]!.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: length))
                state.pendingBytes += length
                if state.pending[bounds.low]!.count >= Self.segmentBytes { try write(bounds.low, &state) }
                index = end
            }
            if state.pendingBytes > Self.pendingLimit {
                for low in Array(state.pending.keys) { try write(low, &state) }
            }
        }
    }

    /// Writes out what is left and seals every partition; the new partitions, by lower bound.
    func finish() throws -> [Partition] {
        try state.withLock { state in
            for low in Array(state.pending.keys) { try write(low, &state) }
            for low in state.partitions.keys.sorted() where !state.partitions[low]!.sealed { try seal(low, &state) }
            return state.partitions.values.sorted { $0.low < $1.low }
        }
    }

    private func seal(_ low: Int64, _ state: inout State) throws {
        try write(low, &state)
        state.partitions[low]!.sealed = true
        onSeal(state.partitions[low]!)
    }

    private func write(_ low: Int64, _ state: inout State) throws {
        guard var bytes = state.pending.removeValue(forKey: low) else { return }
        defer {
            bytes.removeAll(keepingCapacity: true)
            if state.spare.count < 2 { state.spare.append(bytes) }
        }
        guard !bytes.isEmpty else { return }
        let offset = state.written
        do {
            try file.write(bytes, at: offset)
        } catch {
            throw Self.failure("cannot write the rows of new partitions to \(NSTemporaryDirectory()): \(error.reason)")
        }
        state.written += bytes.count
        state.pendingBytes -= bytes.count
        if state.partitions[low]!.sealed {
            state.partitions[low]!.late.append((offset, bytes.count))
        } else {
            state.partitions[low]!.segments.append((offset, bytes.count))
        }
    }

    /// Reads rows back from `segments` (a partition's, or its late ones), a piece at a time (at
    /// most ``segmentBytes`` of memory).
    func read(_ segments: [(offset: Int, length: Int)], _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.segmentBytes, alignment: 8)
        defer { buffer.deallocate() }
        for segment in segments {
            var done = 0
            while done < segment.length {
                let size = min(buffer.count, segment.length - done)
                let n: Int
                do {
                    n = try file.read(into: buffer.baseAddress!, count: size, at: segment.offset + done)
                } catch {
                    throw Self.failure("cannot read back the rows of new partitions: \(error.reason)")
                }
                guard n > 0 else { throw Self.failure("cannot read back the rows of new partitions: the file ended early") }
                try body(UnsafeRawBufferPointer(start: buffer.baseAddress, count: n))
                done += n
            }
        }
    }

    private static func failure(_ message: String) -> GreyoakError { GreyoakError(.failure, message) }
}
