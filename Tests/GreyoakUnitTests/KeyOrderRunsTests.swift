import Foundation
import Testing
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// Streams `chunks` through runs of `budget` bytes and returns what it sent, and the sorter
/// (for its counters).
private func stream(_ chunks: [[KeyedRow]], budget: Int, order: KeyOrderRuns.Order = .key) -> (rows: [KeyedRow], sorter: KeyOrderRuns) {
    let input = BoundedQueue<CopyChunk>(capacity: chunks.count + 1)
    for rows in chunks { input.put(chunk(rows)) }
    input.close()
    var sent: [UInt8] = []
    let sorter = KeyOrderRuns(budget: budget, order: order)
    sorter.stream(input) { sent += $0 }
    return (decode(sent), sorter)
}

/// Tickers that share their first 8 bytes (the sort prefix), one a prefix of another, and
/// short ones.
private let tickers = ["ABCDEFGH.NS", "ABCDEFGH", "ABCDEFGHA", "ABCDEFG", "ABCDEFGH.N", "TCS.NS", "A", "ZZ.NS", "ABCDEFGI"]
private let day: Int64 = 86_400_000_000

/// Date-major rows, as score files come: every ticker and mode of a day, then the next day;
/// dates before and after 2000-01-01 (negative and positive in PostgreSQL's timestamp).
private func dateMajorRows(days: Int, tickers: [String] = tickers) -> [KeyedRow] {
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

/// The sorted runs of `rows`: where each row sorts before the one sent just before it, a run
/// ends.
private func runs(_ rows: [KeyedRow]) -> Int {
    rows.isEmpty ? 0 : 1 + zip(rows, rows.dropFirst()).filter { KeyedRow.keyOrder($0.1, $0.0) }.count
}

private func chunks(_ rows: [KeyedRow], of size: Int) -> [[KeyedRow]] {
    stride(from: 0, to: rows.count, by: size).map { Array(rows[$0..<min($0 + size, rows.count)]) }
}

@Suite("KeyOrderRuns: a direct COPY's rows in primary-key order, in runs of bounded memory")
struct KeyOrderRunsTests {
    @Test("a budget holding the whole input sends every row once, in primary-key order")
    func wholeInputSorted() {
        let rows = dateMajorRows(days: 7)
        let (sent, sorter) = stream(chunks(rows, of: 10), budget: 1 << 30)
        #expect(sent == rows.sorted(by: KeyedRow.keyOrder))
        #expect(sorter.runs == 1)
    }

    @Test("mode first: one mode's rows, then the other's, each in primary-key order",
          arguments: [Mode.investor, .trader])
    func modeFirst(first: Mode) {
        let rows = dateMajorRows(days: 5)
        let sent = stream(chunks(rows, of: 10), budget: 1 << 30, order: .modeFirst(first)).rows
        let sorted = rows.sorted(by: KeyedRow.keyOrder)
        #expect(sent == sorted.filter { $0.mode == first } + sorted.filter { $0.mode != first })
    }

    /// The point of replacement selection: on date-major input (each day's tickers in a new
    /// random order) a run is longer than the memory, whatever the chunks' size.
    @Test("every row is sent exactly once, in runs longer than the memory, holding at most the budget and a chunk",
          arguments: [1, 7, 40])
    func boundedRuns(rowsPerChunk: Int) {
        let names = (0..<200).map { "T\($0 * 7919 % 1000).NS" }
        let rows = dateMajorRows(days: 30, tickers: names)
        let input = chunks(rows, of: rowsPerChunk)
        let rowBytes = KeyOrderRuns.footprint(ofRow: chunk(Array(rows.prefix(1))).rows.count)
        let budget = rowBytes * 1_000
        let (sent, sorter) = stream(input, budget: budget)
        #expect(sent.map(\.id).sorted() == rows.map(\.id))
        // Runs average at least 1.5 memory-fulls (about 2 but for the first and last). Sorting
        // a window at a time, two windows in memory, would give 2 runs per memory-full.
        let memoryFulls = (rows.count * rowBytes + budget - 1) / budget
        #expect(runs(sent) == sorter.runs)
        #expect(sorter.runs > 1 && sorter.runs * 3 <= memoryFulls * 2, "runs: \(sorter.runs), memory-fulls: \(memoryFulls)")
        #expect(sorter.peakBytes < budget + (rowsPerChunk + 1) * rowBytes)
        #expect(sorter.bytes == 0 && sorter.isEmpty)
    }

    /// Tickers that differ only past the 16 bytes the sort key holds, and rows too long for a
    /// slot (a ticker of 100 bytes makes one), mixed with short ones.
    @Test("long tickers and long rows: sorted by their bytes, every row sent once")
    func longTickersAndRows() {
        let long = ["ABCDEFGHIJKLMNOPQ", "ABCDEFGHIJKLMNOPR", "ABCDEFGHIJKLMNOP", String(repeating: "Z", count: 100),
                    String(repeating: "Z", count: 99) + "Y", "A", "ABCDEFGHIJKLMNOPQRSTU"]
        let rows = dateMajorRows(days: 40, tickers: long)
        #expect(chunk([rows.first { $0.ticker.count == 100 }!]).rows.count > KeyOrderRuns.footprint(ofRow: 0))
        let (whole, _) = stream(chunks(rows, of: 3), budget: 1 << 30)
        #expect(whole == rows.sorted(by: KeyedRow.keyOrder))
        let (bounded, sorter) = stream(chunks(rows, of: 3), budget: 20 * KeyOrderRuns.footprint(ofRow: 0))
        #expect(bounded.map(\.id).sorted() == rows.map(\.id))
        #expect(runs(bounded) == sorter.runs && sorter.runs > 1)
    }

    @Test("with a budget of one byte, each chunk's rows go out before the next chunk is read")
    func tinyBudget() {
        let rows = dateMajorRows(days: 3)
        let parts = chunks(rows, of: 5)
        let (sent, sorter) = stream(parts, budget: 1)
        #expect(sent.map(\.id).sorted() == rows.map(\.id))
        #expect(sorter.peakBytes == parts.map { $0.map { KeyOrderRuns.footprint(ofRow: chunk([$0]).rows.count) }.reduce(0, +) }.max())
        var position = 0
        for part in parts {
            let out = Array(sent[position..<position + part.count])
            #expect(Set(out.map(\.id)) == Set(part.map(\.id)))
            // At most two runs per chunk: those after the last row sent, then the others.
            #expect(runs(out) <= 2)
            position += part.count
        }
    }

    /// A failing stage cancels the writers' queues; what is held then would only be rolled
    /// back. Here the input is cancelled while the second piece goes out.
    @Test("once the input is cancelled, nothing more is sent")
    func cancelledInput() throws {
        let first = (0..<1_500).map { KeyedRow(ticker: Array("T\($0 % 300).NS".utf8), date: Int64($0 / 300) * day, mode: .trader, id: Double($0)) }
        let firstChunk = chunk(first)
        try #require(firstChunk.rows.count > 256 << 10, "the rows must go out in two pieces at least")
        let input = BoundedQueue<CopyChunk>(capacity: 4)
        input.put(firstChunk)
        input.put(chunk(dateMajorRows(days: 1)))
        input.close()
        var pieces = 0
        var sent: [UInt8] = []
        KeyOrderRuns.stream(input, budget: 1 << 30) { piece in
            pieces += 1
            sent += piece
            if pieces == 1 { input.cancel() }
        }
        #expect(pieces == 1)
        let rows = decode(sent)
        #expect(!rows.isEmpty && rows.count < first.count)
        #expect(runs(rows) == 1)
    }

    @Test("an empty input sends nothing")
    func emptyInput() {
        #expect(stream([], budget: 100).rows.isEmpty)
    }
}

