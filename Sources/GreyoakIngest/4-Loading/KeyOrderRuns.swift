import Foundation
import GreyoakPostgres

/// Reorders binary COPY rows bound for `scores` into primary-key order (ticker, scoring_date,
/// mode), in sorted runs as long as a bounded memory allows, before a direct COPY sends them.
///
/// Why: in a direct load every row costs the server one insert into each of the five indexes
/// of `scores`, and that is most of its time (about 80% of a backfill's server CPU in
/// `perf`). Input files are date-major, so consecutive rows land on far-apart leaf pages of
/// the primary key and of `idx_scores_ticker`: one page per ticker, fetched again for the
/// next date. In key order, a ticker's rows of many dates follow each other into the same
/// leaf pages while they are hot in the CPU's cache; the longer the sorted run, the more
/// dates per visit. Measured in BENCHMARKS.md ("Backfill: each writer's rows in key order"
/// and "Replacement selection").
///
/// How: replacement selection (Knuth, TAOCP vol. 3, 5.4.1). Rows wait until the budget is
/// held; from then on, as rows come in, the smallest waiting row that does not sort before
/// the last one sent goes out. A row that arrives after its place in the current run has
/// gone out waits for the next run. On input in random key order a run is about twice the
/// memory long, where sorting a window at a time (fill one, send it while filling the next)
/// gets runs of half the memory: four times the rows per run for the same bytes.
///
/// It works a chunk at a time: a chunk's rows are sorted as they come and split where the
/// last row sent would go, the part after it for the current run, the part before it for
/// the next; a small heap of these sorted segments, one entry per segment, merges them. The
/// rows sent are what a heap of single rows would send, but a heap of 25k rows per writer
/// (swift-collections' `Heap`, then one of our own) cost a backfill of 500k rows 0.1-0.2 s
/// more of greyoak's CPU, mostly cache misses on its way down (`perf`); the segments' heap
/// stays in the CPU's cache. Our own code: no library merges runs in bounded memory over
/// rows it does not own.
///
/// Each row is copied out of the validator's chunk into a slot of its own (``RowSlots``),
/// reused once the row is sent. (Rows left in their chunks held the chunks for as long as
/// their last row waited, about half of them for the next run: on date-major input the runs
/// were then no longer than windows'.) Memory is the budget plus the chunk being read,
/// whatever the input. The rows sent are the same as they came; only their order moves.
package final class KeyOrderRuns {
    /// The order of the rows within a run. With several writers, each sends one mode's rows
    /// of a run before the other's, every other writer the other mode first: two writers then
    /// insert into opposite ends of `idx_scores_mode` (two values, so every insert goes to
    /// the last page of its value) instead of waiting on each other for the same page.
    /// Measured by hand (500k-row backfill, 2 writers, 3 runs each, alternating): 3.15-3.21 s
    /// against 3.38-3.42 s in primary-key order, server CPU 4.53-4.59 s against 4.79-4.82 s.
    package enum Order: Sendable {
        /// Primary-key order: ticker, scoring_date, mode.
        case key
        /// Primary-key order within each mode, that mode's rows first.
        case modeFirst(Mode)
    }

    /// Bytes of rows all the writers of one load hold together: each writer gets its share,
    /// so memory stays the same whatever the writer count (a writer holds fewer tickers, in
    /// as many dates). 12 MiB keeps a backfill's peak RSS under 64 MiB.
    static let totalBudget = 12 << 20

    /// A row waiting to be sent: where it is and its sort key (the validator's
    /// ``ScoreCopyRow/Key``: `prefix` and `prefix2` order as the ticker's first 16 bytes).
    /// The key's fields again rather than the key itself: packed into 40 bytes, with the
    /// slot's address for the buffer's offset, so that the segments stay small in the cache.
    fileprivate struct Row {
        /// 0 for the mode sent first (all rows under ``Order/key``), 1 for the other.
        var rank: UInt8
        var modeByte: UInt8
        var tickerLength: Int16
        var length: Int32
        var prefix: UInt64
        var prefix2: UInt64
        var date: Int64
        /// The row's bytes, in a slot of ``RowSlots``: its field count, then the ticker's
        /// length and bytes, then the other fields.
        var start: UnsafeMutableRawPointer

        /// Whether `self` sorts before `other` within a run.
        func precedes(_ other: Row) -> Bool {
            if rank != other.rank { return rank < other.rank }
            if prefix != other.prefix { return prefix < other.prefix }
            if prefix2 != other.prefix2 { return prefix2 < other.prefix2 }
            if tickerLength > 16 || other.tickerLength > 16 {
                let shorter = min(Int(tickerLength), Int(other.tickerLength))
                let order = memcmp(start + ScoreCopyRow.tickerOffset, other.start + ScoreCopyRow.tickerOffset, shorter)
                if order != 0 { return order < 0 }
                if tickerLength != other.tickerLength { return tickerLength < other.tickerLength }
            }
            if date != other.date { return date < other.date }
            // The two modes differ in their first byte ("Investor" < "Trader").
            return modeByte < other.modeByte
        }
    }

    private let budget: Int
    private let firstMode: UInt8?
    /// Sorted segments of rows waiting, a min-heap by run and first row.
    private var segments = SegmentHeap()
    /// Where rows wait.
    private var slots = RowSlots()
    /// A chunk's rows, while they are read and sorted.
    private var incoming: [Row] = []
    /// Bytes of the rows held.
    package private(set) var bytes = 0
    /// The most bytes held at once, for tests.
    package private(set) var peakBytes = 0
    /// Runs begun so far, for tests.
    package private(set) var runs = 0
    private var run: UInt32 = 0
    /// The last row sent: a new row that sorts before it waits for the next run. Its key's
    /// bytes are copied to `lastKey` (its slot is reused once it is sent).
    private var last: Row?
    private var lastKey: UnsafeMutableRawPointer
    private var lastKeyCapacity = 64
    private let piece = ByteBuffer(capacity: KeyOrderRuns.pieceSize + 4096)
    /// Sorted rows are gathered and sent in pieces of about this many bytes.
    private static let pieceSize = 256 << 10

    /// Rows of one run, sorted, from one chunk: `rows[next..<end]` are still to be sent.
    fileprivate struct Segment {
        var rows: UnsafeMutablePointer<Row>
        var next: Int
        var end: Int
        var run: UInt32

        var head: Row { rows[next] }

        static func < (a: Segment, b: Segment) -> Bool {
            a.run != b.run ? a.run < b.run : a.head.precedes(b.head)
        }
    }

    /// - Parameter budget: Bytes of rows held before rows go out.
    package init(budget: Int, order: Order = .key) {
        self.budget = max(1, budget)
        firstMode = switch order {
        case .key: nil
        case let .modeFirst(mode): mode.bytes[0]
        }
        lastKey = .allocate(byteCount: lastKeyCapacity, alignment: 8)
    }

    deinit {
        segments.deallocate { slots.deallocate($0.start, Int($0.length)) }
        slots.deallocate()
        lastKey.deallocate()
    }

    package var isEmpty: Bool { segments.count == 0 }

    /// The bytes of the budget a row of `length` bytes takes while it waits.
    package static func footprint(ofRow length: Int) -> Int { RowSlots.footprint(length) }

    /// Sends everything `input` delivers until it ends, in key order a run at a time.
    ///
    /// Rows go out as chunks come in once the budget is held, gathered into pieces; before it
    /// waits for more input it sends the piece it has. Once `input` is cancelled (another
    /// stage failed, and the load will be rolled back) it sends nothing more.
    package static func stream(_ input: BoundedQueue<CopyChunk>, budget: Int, order: Order = .key,
                       send: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let sorter = KeyOrderRuns(budget: budget, order: order)
        try sorter.stream(input, send: send)
    }

    /// ``stream(_:budget:order:send:)`` on this instance, so that tests can read its counters.
    func stream(_ input: BoundedQueue<CopyChunk>, send: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var ended = false
        while !input.isCancelled {
            if !ended && bytes < budget {
                switch input.poll() {
                case let .item(chunk):
                    add(chunk)
                    continue
                case .empty:
                    if piece.count > 0 {
                        try send(piece.bytes)
                        piece.removeAll()
                    }
                    if let chunk = input.take() { add(chunk) } else { ended = true }
                    continue
                case .ended:
                    ended = true
                }
            }
            // Over the budget, or at the end: send rows until back under it.
            while segments.count > 0 && (ended || bytes >= budget) && piece.count < Self.pieceSize {
                takeSmallest()
            }
            if piece.count >= Self.pieceSize || (ended && segments.count == 0 && piece.count > 0) {
                guard !input.isCancelled else { return }
                try send(piece.bytes)
                piece.removeAll()
            }
            if ended && segments.count == 0 { return }
        }
    }

    /// Takes a chunk of whole rows in the direct layout with their keys (the validator's:
    /// nothing here reads a row's fields), each row into a slot of its own, sorts them, and
    /// adds them as up to two segments: the rows that sort before the last row sent wait for
    /// the next run.
    func add(_ chunk: CopyChunk) {
        let base = UnsafeRawPointer(chunk.rows.base)
        incoming.removeAll(keepingCapacity: true)
        for key in chunk.keys {
            let length = Int(key.length)
            let start = slots.allocate(length)
            start.copyMemory(from: base + key.offset, byteCount: length)
            let rank: UInt8 = firstMode.map { key.modeByte != $0 ? 1 : 0 } ?? 0
            incoming.append(Row(rank: rank, modeByte: key.modeByte, tickerLength: key.tickerLength, length: key.length,
                                prefix: key.prefix, prefix2: key.prefix2, date: key.date, start: start))
            bytes += RowSlots.footprint(length)
        }
        peakBytes = max(peakBytes, bytes)
        guard !incoming.isEmpty else { return }
        incoming.sort { $0.precedes($1) }
        // The rows before `split` sort before the last row sent: their place in this run is gone.
        var split = 0
        if let last {
            var high = incoming.count
            while split < high {
                let middle = (split + high) / 2
                if incoming[middle].precedes(last) { split = middle + 1 } else { high = middle }
            }
        }
        if split > 0 { push(incoming[..<split], run: run &+ 1) }
        if split < incoming.count { push(incoming[split...], run: run) }
    }

    private func push(_ rows: ArraySlice<Row>, run: UInt32) {
        let storage = UnsafeMutablePointer<Row>.allocate(capacity: rows.count)
        _ = UnsafeMutableBufferPointer(start: storage, count: rows.count).initialize(from: rows)
        segments.insert(Segment(rows: storage, next: 0, end: rows.count, run: run))
    }

    /// Sends the smallest waiting row.
    private func takeSmallest() {
        let (row, run) = segments.popFirstRow()
        take(row, run: run)
    }

    /// Appends `row`, of run `run`, to the piece, frees it, and keeps its key as the last sent.
    private func take(_ row: Row, run: UInt32) {
        if run != self.run || last == nil {
            self.run = run
            runs += 1
        }
        piece.append(row.start, Int(row.length))
        bytes -= RowSlots.footprint(Int(row.length))
        let keyBytes = ScoreCopyRow.tickerOffset + Int(row.tickerLength)
        if keyBytes > lastKeyCapacity {
            lastKey.deallocate()
            lastKeyCapacity = keyBytes
            lastKey = .allocate(byteCount: keyBytes, alignment: 8)
        }
        lastKey.copyMemory(from: row.start, byteCount: keyBytes)
        slots.deallocate(row.start, Int(row.length))
        var kept = row
        kept.start = lastKey
        last = kept
    }
}

/// The segments' min-heap, in memory of its own: one exclusivity check per row sent, not one
/// per element it reads.
private struct SegmentHeap {
    private var items: UnsafeMutablePointer<KeyOrderRuns.Segment>
    private var capacity = 64
    private(set) var count = 0

    init() { items = .allocate(capacity: capacity) }

    /// Frees the segments, handing each row still waiting to `release`.
    func deallocate(releasing release: (KeyOrderRuns.Row) -> Void) {
        for index in 0..<count {
            let segment = items[index]
            for row in segment.next..<segment.end { release(segment.rows[row]) }
            segment.rows.deallocate()
        }
        items.deallocate()
    }

    mutating func insert(_ segment: KeyOrderRuns.Segment) {
        if count == capacity {
            let grown = UnsafeMutablePointer<KeyOrderRuns.Segment>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: items, count: count)
            items.deallocate()
            items = grown
            capacity *= 2
        }
        var index = count
        count += 1
        while index > 0 {
            let parent = (index - 1) / 2
            guard segment < items[parent] else { break }
            items[index] = items[parent]
            index = parent
        }
        items[index] = segment
    }

    /// The first row of the smallest segment, and its run; the segment moves to its new place,
    /// or is freed once empty. The heap must not be empty.
    mutating func popFirstRow() -> (KeyOrderRuns.Row, UInt32) {
        var top = items[0]
        let result = (top.head, top.run)
        top.next += 1
        if top.next == top.end {
            top.rows.deallocate()
            count -= 1
            guard count > 0 else { return result }
            top = items[count]
        }
        var index = 0
        while true {
            let left = 2 * index + 1
            guard left < count else { break }
            let right = left + 1
            let child = right < count && items[right] < items[left] ? right : left
            guard items[child] < top else { break }
            items[index] = items[child]
            index = child
        }
        items[index] = top
        return result
    }
}

/// Fixed-size slots for the rows waiting, carved from slabs and reused, so that a row costs
/// no malloc and free of its own (they were 11% of greyoak's samples in a backfill). A row of
/// `scores` in the direct layout is 236-287 bytes (99.7% at most 272); a longer one (a long
/// guardrails text) gets an allocation of its own.
private struct RowSlots {
    static let slotSize = 272
    private static let slabSlots = 240
    private var slabs: [UnsafeMutableRawPointer] = []
    private var free: [UnsafeMutableRawPointer] = []

    /// The bytes a row of `length` takes.
    static func footprint(_ length: Int) -> Int { max(length, slotSize) }

    mutating func allocate(_ length: Int) -> UnsafeMutableRawPointer {
        guard length <= Self.slotSize else { return .allocate(byteCount: length, alignment: 8) }
        if free.isEmpty {
            let slab = UnsafeMutableRawPointer.allocate(byteCount: Self.slotSize * Self.slabSlots, alignment: 16)
            slabs.append(slab)
            for index in (0..<Self.slabSlots).reversed() { free.append(slab + index * Self.slotSize) }
        }
        return free.removeLast()
    }

    mutating func deallocate(_ slot: UnsafeMutableRawPointer, _ length: Int) {
        if length > Self.slotSize { slot.deallocate() } else { free.append(slot) }
    }

    /// Frees every slab (rows with an allocation of their own are freed one by one).
    func deallocate() { slabs.forEach { $0.deallocate() } }
}
