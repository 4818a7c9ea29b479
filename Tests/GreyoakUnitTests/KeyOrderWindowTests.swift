import Foundation
import Testing
@testable import GreyoakKit

/// A row of the direct COPY layout as the tests see it: its key and a payload that tells
/// rows apart (the row's number, in f_score).
private struct KeyedRow: Equatable {
    var ticker: [UInt8]
    var date: Int64
    var mode: Mode
    var id: Double

    /// PostgreSQL's order for the primary key in the C collation: ticker bytes (a shorter
    /// ticker first when one is a prefix of the other), then date, then mode text.
    static func keyOrder(_ a: KeyedRow, _ b: KeyedRow) -> Bool {
        if a.ticker != b.ticker { return a.ticker.lexicographicallyPrecedes(b.ticker) }
        if a.date != b.date { return a.date < b.date }
        return a.mode.name < b.mode.name
    }
}

/// Encodes rows as the validator does for a direct COPY: the key, then the 18 other score
/// columns, some NULL.
private func chunk(_ rows: [KeyedRow]) -> ByteBuffer {
    let buffer = ByteBuffer(capacity: 64)
    let encoder = CopyEncoder(buffer: buffer)
    for row in rows {
        encoder.beginRow(fields: ScoreValidator.directFields, textBytes: row.ticker.count + 64)
        encoder.text(row.ticker)
        encoder.int8(row.date)
        encoder.text(row.mode.bytes)
        encoder.float8(row.id)
        for field in 4..<Int(ScoreValidator.directFields) {
            if field % 3 == 0 { encoder.null() } else { encoder.float8(Double(field)) }
        }
    }
    return buffer
}

/// Reads the direct COPY rows back.
private func decode(_ bytes: [UInt8]) -> [KeyedRow] {
    var rows: [KeyedRow] = []
    var offset = 0
    func int<T: FixedWidthInteger>(_ type: T.Type) -> T {
        defer { offset += MemoryLayout<T>.size }
        return bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
    while offset < bytes.count {
        let fields = Int(int(Int16.self))
        var row = KeyedRow(ticker: [], date: 0, mode: .trader, id: -1)
        for field in 0..<fields {
            let length = Int(int(Int32.self))
            guard length >= 0 else { continue }
            let value = Array(bytes[offset..<offset + length])
            switch field {
            case 0: row.ticker = value
            case 1: row.date = value.withUnsafeBytes { Int64(bigEndian: $0.loadUnaligned(as: Int64.self)) }
            case 2: row.mode = Mode.parse(value, value.count)!
            case 3: row.id = Double(bitPattern: value.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) })
            default: break
            }
            offset += length
        }
        rows.append(row)
    }
    return rows
}

/// Streams `chunks` through a window of `budget` bytes and returns what it sent.
private func stream(_ chunks: [[KeyedRow]], budget: Int, order: KeyOrderWindow.Order = .key) -> [KeyedRow] {
    let input = BoundedQueue<ByteBuffer>(capacity: chunks.count + 1)
    for rows in chunks { input.put(chunk(rows)) }
    input.close()
    var sent: [UInt8] = []
    KeyOrderWindow.stream(input, budget: budget, order: order) { sent += $0 }
    return decode(sent)
}

/// Tickers that share their first 8 bytes (the window's sort prefix), one a prefix of
/// another, and short ones.
private let tickers = ["ABCDEFGH.NS", "ABCDEFGH", "ABCDEFGHA", "ABCDEFG", "ABCDEFGH.N", "TCS.NS", "A", "ZZ.NS", "ABCDEFGI"]
private let day: Int64 = 86_400_000_000

/// Date-major rows, as score files come: every ticker and mode of a day, then the next day;
/// dates before and after 2000-01-01 (negative and positive in PostgreSQL's timestamp).
private func dateMajorRows(days: Int) -> [KeyedRow] {
    var rows: [KeyedRow] = []
    for d in 0..<days {
        for ticker in tickers.shuffled() {
            for mode in [Mode.trader, .investor] {
                rows.append(KeyedRow(ticker: Array(ticker.utf8), date: Int64(d - days / 2) * day, mode: mode, id: Double(rows.count)))
            }
        }
    }
    return rows
}

@Suite("KeyOrderWindow: a direct COPY's rows in primary-key order, a bounded window at a time")
struct KeyOrderWindowTests {
    @Test("a window holding the whole input sends every row once, in primary-key order")
    func wholeInputSorted() {
        let rows = dateMajorRows(days: 7)
        let chunks = stride(from: 0, to: rows.count, by: 10).map { Array(rows[$0..<min($0 + 10, rows.count)]) }
        let sent = stream(chunks, budget: 1 << 30)
        #expect(sent == rows.sorted(by: KeyedRow.keyOrder))
    }

    @Test("mode first: one mode's rows of a window, then the other's, each in primary-key order",
          arguments: [Mode.investor, .trader])
    func modeFirst(first: Mode) {
        let rows = dateMajorRows(days: 5)
        let chunks = stride(from: 0, to: rows.count, by: 10).map { Array(rows[$0..<min($0 + 10, rows.count)]) }
        let sent = stream(chunks, budget: 1 << 30, order: .modeFirst(first))
        let sorted = rows.sorted(by: KeyedRow.keyOrder)
        #expect(sent == sorted.filter { $0.mode == first } + sorted.filter { $0.mode != first })
    }

    /// A window is full once it holds `budget` bytes: with a budget of one byte every chunk
    /// is a window of its own, sorted, and no row moves past a window's end.
    @Test("with a budget of one chunk, each chunk is sorted on its own and the chunks keep their order",
          arguments: [1, 2, 17])
    func windowsStayInOrder(rowsPerChunk: Int) {
        let rows = dateMajorRows(days: 3)
        let chunks = stride(from: 0, to: rows.count, by: rowsPerChunk).map { Array(rows[$0..<min($0 + rowsPerChunk, rows.count)]) }
        let sent = stream(chunks, budget: 1)
        #expect(sent == chunks.flatMap { $0.sorted(by: KeyedRow.keyOrder) })
    }

    @Test("a budget of several chunks sends every row exactly once")
    func everyRowOnce() {
        let rows = dateMajorRows(days: 20)
        let chunks = stride(from: 0, to: rows.count, by: 13).map { Array(rows[$0..<min($0 + 13, rows.count)]) }
        let budget = chunk(Array(rows.prefix(40))).count
        let sent = stream(chunks, budget: budget)
        #expect(sent.map(\.id).sorted() == rows.map(\.id))
        // Sorted runs of about `budget` bytes: fewer descents than rows, more than one.
        let descents = zip(sent, sent.dropFirst()).filter { KeyedRow.keyOrder($0.1, $0.0) }.count
        #expect(descents > 1 && descents < rows.count / 20)
    }

    /// A failing stage cancels the writers' queues; what a window holds then would only be
    /// rolled back. Here the input is cancelled while the first window's second piece goes
    /// out, with two more chunks waiting in the next window.
    @Test("once the input is cancelled, the rows of the next window are not sent")
    func cancelledInput() throws {
        let first = (0..<1_500).map { KeyedRow(ticker: Array("T\($0 % 300).NS".utf8), date: Int64($0 / 300) * day, mode: .trader, id: Double($0)) }
        let firstChunk = chunk(first)
        try #require(firstChunk.count > 256 << 10, "the first window must go out in two pieces")
        let input = BoundedQueue<ByteBuffer>(capacity: 4)
        input.put(firstChunk)
        input.put(chunk(dateMajorRows(days: 1)))
        input.put(chunk(dateMajorRows(days: 1)))
        var sent: [UInt8] = []
        var pieces = 0
        KeyOrderWindow.stream(input, budget: firstChunk.count) { piece in
            sent += piece
            pieces += 1
            if pieces == 2 { input.cancel() }
        }
        #expect(decode(sent) == first.sorted(by: KeyedRow.keyOrder))
    }

    @Test("an empty input sends nothing")
    func emptyInput() {
        #expect(stream([], budget: 100).isEmpty)
    }
}
