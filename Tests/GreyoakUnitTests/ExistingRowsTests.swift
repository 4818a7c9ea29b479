import Foundation
import Testing
@testable import GreyoakIngest

/// The compare mode's memory of `scores`: the table's verdicts, and how ``ExistingRows``
/// asks for ranges of dates, keeps them within its bound and gives up when it must. The
/// coordinator's side is played by a thread answering from a made-up table.
@Suite("Existing rows")
struct ExistingRowsTests {
    private static let day = ExistingRows.day

    private static func fingerprint(_ key: UInt64, _ row: UInt64) -> RowFingerprint { RowFingerprint(key: key, row: row) }

    @Test("the table's verdicts: absent, unchanged, changed, and a key met twice")
    func verdicts() {
        var table = FingerprintTable((1...1000).map { Self.fingerprint($0 * 7919, $0) })
        #expect(table.count == 1000)
        #expect(table.classify(Self.fingerprint(5 * 7919, 5)) == .unchanged)
        #expect(table.classify(Self.fingerprint(6 * 7919, 60)) == .changed)
        #expect(table.classify(Self.fingerprint(3, 1)) == .absent)
        #expect(table.classify(Self.fingerprint(5 * 7919, 5)) == .repeated)
        #expect(table.classify(Self.fingerprint(6 * 7919, 6)) == .repeated)
        #expect(table.bytes == 2048 * 16)
    }

    /// `scores` as the fake coordinator sees it: `rowsPerDay` rows on each weekday of
    /// `days` days from day 0; row fingerprints (key = date * 1e6 + n, row = 1).
    private final class FakeScores: @unchecked Sendable {  // `requests` only under `lock`
        let rowsPerDay: Int
        let days: Int64
        let lock = NSLock()
        var requests: [ExistingRowsChannel.Request] = []

        init(rowsPerDay: Int, days: Int64) {
            self.rowsPerDay = rowsPerDay
            self.days = days
        }

        func rows(_ request: ExistingRowsChannel.Request) -> [RowFingerprint]? {
            lock.withLock { requests.append(request) }
            var rows: [RowFingerprint] = []
            for day in 0..<days where day % 7 < 5 {
                let date = day * ExistingRowsTests.day
                guard date >= request.low && date < request.high else { continue }
                for n in 0..<rowsPerDay { rows.append(ExistingRowsTests.fingerprint(UInt64(day) * 1_000_000 + UInt64(n) + 1, 1)) }
                if rows.count > request.limit { return nil }
            }
            return rows
        }
    }

    /// Runs `body` with an ``ExistingRows`` whose requests `scores` answers.
    private func withExistingRows(_ scores: FakeScores, maxRows: Int, _ body: (ExistingRows) throws -> Void) throws {
        let channel = ExistingRowsChannel()
        let server = Thread { channel.serve(scores.rows) }
        server.start()
        defer { channel.end() }
        try body(ExistingRows(channel: channel, maxRows: maxRows))
    }

    private func classify(_ rows: ExistingRows, day: Int64, n: Int, row: UInt64 = 1) throws -> FingerprintTable.Verdict {
        let fingerprint = Self.fingerprint(UInt64(day) * 1_000_000 + UInt64(n) + 1, row)
        return try rows.classify(date: day * Self.day, key: fingerprint.key, row: fingerprint.row)
    }

    @Test("dates in order: after a day, each range spans a quarter of the bound at the density seen, read ahead, so 100 days take a few reads")
    func spansGrow() throws {
        let scores = FakeScores(rowsPerDay: 100, days: 100)
        try withExistingRows(scores, maxRows: 16_000) { (rows: ExistingRows) throws in
            for day in Int64(0)..<100 where day % 7 < 5 {
                for n in 0..<100 { #expect(try classify(rows, day: day, n: n) == .unchanged) }
            }
            #expect(try classify(rows, day: 120, n: 0) == .absent)
            #expect(rows.rowsFetched == 72 * 100)
        }
        let requests = scores.lock.withLock { scores.requests }
        let spans = requests.map { ($0.high - $0.low) / Self.day }
        // 100 rows a weekday, a bound of 16,000: a first day, then 40 days for 4,000 rows;
        // those hold weekends, so the next range spans more days.
        #expect(spans.prefix(2) == [1, 40] && spans[2] > 40, "\(spans)")
        #expect(spans.count <= 5, "\(spans)")
        // Each read ahead starts where the last range ended, and all were used (a range read
        // for nothing would show as a gap).
        #expect(zip(requests, requests.dropFirst()).allSatisfy { $0.high == $1.low }, "\(requests)")
    }

    @Test("given the first date, its day is read before the validator asks, and used")
    func firstDateReadAtOnce() throws {
        let scores = FakeScores(rowsPerDay: 10, days: 5)
        let channel = ExistingRowsChannel()
        let server = Thread { channel.serve(scores.rows) }
        server.start()
        defer { channel.end() }
        let rows = ExistingRows(channel: channel, maxRows: 1000, first: 2 * Self.day)
        // The coordinator answers without a row classified.
        for _ in 0..<200 where scores.lock.withLock({ scores.requests.isEmpty }) { Thread.sleep(forTimeInterval: 0.005) }
        #expect(scores.lock.withLock { scores.requests.map { [$0.low, $0.high] } } == [[2 * Self.day, 3 * Self.day]])
        #expect(try classify(rows, day: 2, n: 3) == .unchanged)
        #expect(rows.fetches == 1 && rows.rowsFetched == 10)
        // An earlier date is read as any other.
        #expect(try classify(rows, day: 0, n: 1) == .unchanged)
    }

    @Test("past the bound, old ranges are dropped; coming back to one gives up")
    func dropsAndGivesUp() throws {
        let scores = FakeScores(rowsPerDay: 1000, days: 30)
        try withExistingRows(scores, maxRows: 3000) { (rows: ExistingRows) throws in
            for day in Int64(0)..<30 where day % 7 < 5 {
                #expect(try classify(rows, day: day, n: 0) == .unchanged)
            }
            #expect(throws: ExistingRows.Abandoned.self) { try classify(rows, day: 0, n: 1) }
        }
    }

    @Test("a key met twice, and a range over the bound, give up")
    func givesUp() throws {
        try withExistingRows(FakeScores(rowsPerDay: 10, days: 5), maxRows: 1000) { (rows: ExistingRows) throws in
            #expect(try classify(rows, day: 1, n: 3, row: 2) == .changed)
            #expect(throws: ExistingRows.Abandoned.self) { try classify(rows, day: 1, n: 3) }
        }
        try withExistingRows(FakeScores(rowsPerDay: 2000, days: 5), maxRows: 1000) { (rows: ExistingRows) throws in
            #expect(throws: ExistingRows.Abandoned.self) { try classify(rows, day: 1, n: 0) }
        }
    }
}

extension FingerprintTable {
    /// The verdict on a whole fingerprint (the validator passes its key and value hash apart).
    fileprivate mutating func classify(_ fingerprint: RowFingerprint) -> Verdict {
        classify(key: fingerprint.key, row: fingerprint.row)
    }
}
