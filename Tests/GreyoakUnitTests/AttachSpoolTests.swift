import Foundation
import Synchronization
import Testing
@testable import GreyoakIngest

/// The spool of a load's new partitions, without a server: what goes in by chunk comes back
/// by partition, whole and in input order, sealed as the input's dates move on.
@Suite("Attach spool: the rows of new partitions, by partition")
struct AttachSpoolTests {
    static func micros(_ text: String) -> Int64 { PartitionLayoutTests.micros(text) }
    static let day: Int64 = 86_400_000_000
    static let layout = PartitionLayout(
        bounded: [.init(name: "scores_legacy", low: .min, high: micros("2024-11-01"))],
        defaultPartition: nil, interval: .month, intervalSource: "test")

    /// Rows of `tickers` tickers in both modes for each of `dates`, numbered from `first` in order.
    static func rows(_ dates: [Int64], tickers: Int, first: Int = 0) -> [KeyedRow] {
        var rows: [KeyedRow] = []
        for date in dates {
            for ticker in 0..<tickers {
                for mode in [Mode.trader, .investor] {
                    rows.append(KeyedRow(ticker: Array("T\(ticker).NS".utf8), date: date, mode: mode, id: Double(first + rows.count)))
                }
            }
        }
        return rows
    }

    /// The names of the partitions the spool sealed, in order.
    final class Sealed: Sendable {
        private let names = Mutex<[String]>([])
        func append(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    /// Adds `rows` in chunks of `size`, recording the partitions' names as they are sealed.
    static func spool(_ rows: [KeyedRow], chunk size: Int) throws -> (spool: AttachSpool, sealed: Sealed) {
        let sealed = Sealed()
        let spool = try AttachSpool(layout: layout) { partition in sealed.append(partition.name) }
        for start in stride(from: 0, to: rows.count, by: size) {
            try spool.add(chunk(Array(rows[start..<min(rows.count, start + size)])))
        }
        return (spool, sealed)
    }

    static func readBack(_ spool: AttachSpool, _ segments: [(offset: Int, length: Int)]) throws -> [KeyedRow] {
        var bytes: [UInt8] = []
        try spool.read(segments) { bytes += $0 }
        return decode(bytes)
    }

    @Test("date-ordered rows: each month comes back whole and in input order, sealed once the input moves past it")
    func dateOrdered() throws {
        // Every other day from November to February, 300 tickers: segments of each month are
        // written as its buffer fills, and the chunks cut the months' runs anywhere.
        let first = Self.micros("2024-11-01")
        let dates = (0..<60).map { first + Int64($0) * 2 * Self.day }  // to 2025-02-27
        let rows = Self.rows(dates, tickers: 300)
        let (spool, sealed) = try Self.spool(rows, chunk: 997)
        #expect(sealed.all == ["scores_p2024_11", "scores_p2024_12", "scores_p2025_01"])
        let partitions: [AttachSpool.Partition] = try spool.finish()
        #expect(sealed.all.last == "scores_p2025_02")
        #expect(partitions.map(\.name) == ["scores_p2024_11", "scores_p2024_12", "scores_p2025_01", "scores_p2025_02"])
        for partition in partitions {
            let expected = rows.filter { $0.date >= partition.low && $0.date < partition.high }
            #expect(partition.rows == expected.count)
            #expect(partition.segments.count > 1, "\(partition.name): one segment only; the test does not cut them")
            #expect(partition.late.isEmpty)
            #expect(try Self.readBack(spool, partition.segments) == expected, "\(partition.name)")
            #expect(partition.bytes == partition.segments.reduce(0) { $0 + $1.length })
        }
    }

    @Test("months interleaved within a chunk: each run goes to its month, and rows of a sealed month are kept as late")
    func interleaved() throws {
        let nov = Self.micros("2024-11-04"), dec = Self.micros("2024-12-02"), jan = Self.micros("2025-01-06")
        // November, December (which seals November), November again, January, December again.
        let parts = [Self.rows([nov], tickers: 5), Self.rows([dec], tickers: 3, first: 100), Self.rows([nov + Self.day], tickers: 2, first: 200),
                     Self.rows([jan], tickers: 4, first: 300), Self.rows([dec + Self.day], tickers: 1, first: 400)]
        let rows = parts.flatMap { $0 }
        let (spool, sealed) = try Self.spool(rows, chunk: rows.count)
        #expect(sealed.all == ["scores_p2024_11", "scores_p2024_12"])
        let partitions = try spool.finish()
        let byName = Dictionary(uniqueKeysWithValues: partitions.map { ($0.name, $0) })
        let november = try #require(byName["scores_p2024_11"]), december = try #require(byName["scores_p2024_12"])
        #expect(try Self.readBack(spool, november.segments) == parts[0])
        #expect(try Self.readBack(spool, november.late) == parts[2])
        #expect(try Self.readBack(spool, december.segments) == parts[1])
        #expect(try Self.readBack(spool, december.late) == parts[4])
        #expect(try Self.readBack(spool, try #require(byName["scores_p2025_01"]).segments) == parts[3])
        #expect(partitions.map(\.rows) == [parts[0].count + parts[2].count, parts[1].count + parts[4].count, parts[3].count])
    }
}
