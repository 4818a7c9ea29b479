import Foundation

/// Reorders binary COPY rows bound for `scores` into primary-key order (ticker, scoring_date,
/// mode) within a window of bounded size, before a direct COPY sends them.
///
/// Why: in a direct load every row costs the server one insert into each of the five indexes
/// of `scores`, and that is most of its time (about 88% of a backfill's server CPU in
/// `perf`). Input files are date-major, so consecutive rows land on far-apart leaf pages of
/// the primary key and of `idx_scores_ticker`: one page per ticker, fetched again for the
/// next date. Sorted over a window that spans several dates, a ticker's rows of those dates
/// follow each other into the same leaf pages while they are hot in the CPU's cache.
/// Measured in BENCHMARKS.md ("Backfill: each writer's rows in key order").
///
/// A window holds whole chunks from the validator, so rows are copied once, when they are
/// sent. ``stream(_:budget:send:)`` fills one window while it sends the one before, so the
/// validator (which feeds every writer) is not held up by a writer sending a window: memory
/// is at most two windows per writer, whatever the input. The rows sent are the same as
/// without it; only their order within a window moves.
final class KeyOrderWindow {
    /// The order of a window's rows. With several writers, each sends one mode's rows of a
    /// window before the other's, every other writer the other mode first: two writers then
    /// insert into opposite ends of `idx_scores_mode` (two values, so every insert goes to
    /// the last page of its value) instead of waiting on each other for the same page.
    /// Measured with `scripts/bench --scenarios backfill` (2 writers, 3 runs each): 0.62x raw
    /// `\copy` against 0.65x in primary-key order, server CPU 5.05 s against 5.14 s.
    enum Order: Sendable {
        /// Primary-key order: ticker, scoring_date, mode.
        case key
        /// Primary-key order within each mode, that mode's rows first.
        case modeFirst(Mode)
    }

    /// Bytes of rows all the writers' windows of one load hold together: each writer gets
    /// its share, so memory stays the same whatever the writer count, and so does the number
    /// of rows per ticker in a window (a writer holds fewer tickers, in as many dates).
    static let totalBudget = 6 << 20

    /// One row's place and its sort key. `prefix` is the ticker's first 8 bytes, big-endian,
    /// zero-padded: it orders as the ticker's bytes do (C collation, and a ticker has no NUL),
    /// so only equal prefixes of long tickers need the full comparison.
    private struct Row {
        var prefix: UInt64
        var date: Int64
        var chunk: Int32
        var offset: Int32
        var length: Int32
        var tickerLength: Int16
        var modeByte: UInt8
    }

    private let budget: Int
    private let order: Order
    private var chunks: [ByteBuffer] = []
    private var bytes = 0
    private var rows: [Row] = []
    /// While sending: the next row to send.
    private var cursor = 0
    /// Sorted rows are gathered here and sent in pieces of about ``pieceSize``.
    private let piece = ByteBuffer(capacity: KeyOrderWindow.pieceSize + 4096)
    private static let pieceSize = 256 << 10

    /// - Parameter budget: Bytes of rows the window takes before it counts as full (it may
    ///   pass that by one chunk).
    init(budget: Int, order: Order = .key) {
        self.budget = max(1, budget)
        self.order = order
    }

    var isEmpty: Bool { rows.isEmpty }
    var isFull: Bool { bytes >= budget }

    /// Sends everything `input` delivers until it ends, in key order a window at a time.
    ///
    /// While a sorted window goes out piece by piece, the chunks already waiting in `input`
    /// go into the next window, without waiting for more. Once `input` is cancelled (another
    /// stage failed, and the load will be rolled back) it sends nothing more.
    static func stream(_ input: BoundedQueue<ByteBuffer>, budget: Int, order: Order = .key,
                       send: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var filling = KeyOrderWindow(budget: budget, order: order), sending = KeyOrderWindow(budget: budget, order: order)
        var ended = false
        while true {
            if ended && input.isCancelled { return }
            if let next = sending.nextPiece() {
                try send(next)
                drain: while !filling.isFull && !ended {
                    switch input.poll() {
                    case let .item(chunk): filling.add(chunk)
                    case .empty: break drain
                    case .ended: ended = true
                    }
                }
            } else if filling.isFull || (ended && !filling.isEmpty) {
                filling.sort()
                swap(&filling, &sending)
            } else if ended {
                return
            } else if let chunk = input.take() {
                filling.add(chunk)
            } else {
                ended = true
            }
        }
    }

    /// Adds a chunk of whole rows in the direct layout (``ScoreValidator/directFields``
    /// fields, the key first: ticker as text, scoring_date as int8, mode as text).
    func add(_ chunk: ByteBuffer) {
        let index = Int32(chunks.count)
        chunks.append(chunk)
        bytes += chunk.count
        let base = UnsafeRawPointer(chunk.base)
        var offset = 0
        while offset < chunk.count {
            let start = offset
            let fields = Int(Int16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
            offset += 2
            var row = Row(prefix: 0, date: 0, chunk: index, offset: Int32(start), length: 0, tickerLength: 0, modeByte: 0)
            for field in 0..<fields {
                let length = Int(Int32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                offset += 4
                guard length > 0 else { continue }
                switch field {
                case 0:
                    row.tickerLength = Int16(length)
                    var prefix: UInt64 = 0
                    for i in 0..<8 { prefix = prefix << 8 | UInt64(i < length ? base.load(fromByteOffset: offset + i, as: UInt8.self) : 0) }
                    row.prefix = prefix
                case 1:
                    row.date = Int64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: Int64.self))
                case 2:
                    row.modeByte = base.load(fromByteOffset: offset, as: UInt8.self)
                default:
                    break
                }
                offset += length
            }
            row.length = Int32(offset - start)
            rows.append(row)
        }
    }

    /// Puts the rows in key order, ready for ``nextPiece()``.
    func sort() {
        let bases = chunks.map { UnsafeRawPointer($0.base) }
        // The modes differ in their first byte ("Investor" < "Trader").
        let firstMode: UInt8? = switch order {
        case .key: nil
        case let .modeFirst(mode): mode.bytes[0]
        }
        rows.sort { a, b in
            if let firstMode, a.modeByte != b.modeByte { return a.modeByte == firstMode }
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            if a.tickerLength > 8 || b.tickerLength > 8 {
                let order = Self.compareTickers(bases[Int(a.chunk)] + Int(a.offset), Int(a.tickerLength),
                                                bases[Int(b.chunk)] + Int(b.offset), Int(b.tickerLength))
                if order != 0 { return order < 0 }
            }
            if a.date != b.date { return a.date < b.date }
            // The two modes differ in their first byte ("Investor" < "Trader").
            return a.modeByte < b.modeByte
        }
        cursor = 0
    }

    /// The next piece of sorted rows, valid until the next call; nil (and the window
    /// emptied, its chunks released) when all are sent.
    func nextPiece() -> UnsafeRawBufferPointer? {
        guard cursor < rows.count else {
            if !rows.isEmpty {
                rows.removeAll(keepingCapacity: true)
                chunks.removeAll()
                bytes = 0
                cursor = 0
            }
            return nil
        }
        piece.removeAll()
        while cursor < rows.count && piece.count < Self.pieceSize {
            let row = rows[cursor]
            piece.append(UnsafeRawPointer(chunks[Int(row.chunk)].base) + Int(row.offset), Int(row.length))
            cursor += 1
        }
        return piece.bytes
    }

    /// Compares two tickers as PostgreSQL does in the C collation: bytes, then length.
    /// `a` and `b` point at their rows, whose first field is the ticker (after the row's
    /// field count and the ticker's length).
    private static func compareTickers(_ a: UnsafeRawPointer, _ aLength: Int, _ b: UnsafeRawPointer, _ bLength: Int) -> Int {
        let order = memcmp(a + 6, b + 6, min(aLength, bLength))
        return order != 0 ? Int(order) : aLength - bLength
    }
}
