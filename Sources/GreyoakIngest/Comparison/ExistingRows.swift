import Dispatch

/// The validator's view of the rows `scores` already holds, for a run in
/// ``LoadMode/compare``: ranges of scoring dates fetched when the input first meets them,
/// each a ``FingerprintTable``, within a bound on rows held at once.
///
/// A range starts at the date that was missed and spans a day at first; the next ones span
/// as many days as make a quarter of the bound at the density seen, so that a re-ingest of
/// many dates costs a few round trips, not one per date, and the next range is read while
/// the validator works on the last one.
/// Past the bound the least recently used ranges are dropped. Their keys'
/// "met" marks go with them, so the run cannot tell a key repeated across them: a row
/// that falls into a dropped range, like a key repeated within a kept one, ends the
/// comparison (``Abandoned``), and the run goes again through the staging table, which
/// finds repeats exactly. Score files are written date by date, so neither happens in the
/// runs this is for.
package final class ExistingRows {
    /// Why the comparison gave up: the run must go again through the staging table.
    package struct Abandoned: Error, Sendable, CustomStringConvertible {
        var reason: String
        package var description: String { "the comparison with scores stopped: \(reason)" }
    }

    private struct Range {
        var low: Int64
        var high: Int64
        var table: FingerprintTable
        var lastUse: Int
    }

    package static let day: Int64 = 86_400_000_000

    private let channel: ExistingRowsChannel
    /// The most rows held at once (at most 43 bytes each, see ``FingerprintTable``): with the
    /// run's other memory, a load stays under 64 MiB.
    let maxRows: Int
    private var ranges: [Range] = []
    private var dropped: [(low: Int64, high: Int64)] = []
    private var heldRows = 0
    private var span = ExistingRows.day
    private var uses = 0
    /// The range read ahead, whose answer is not taken yet.
    private var pending: ExistingRowsChannel.Request?
    /// The range of the last row, tried first.
    private var last = -1
    /// Fetches so far, rows fetched, and the seconds the validator waited for them: for the
    /// debug log.
    private(set) var fetches = 0
    package private(set) var rowsFetched = 0
    private(set) var secondsWaited = 0.0

    /// - Parameter first: A date the input meets first, if known: its day is read at once,
    ///   while the validator starts on its first rows (on Citus the first read also opens the
    ///   coordinator's connections to the workers: 30-50 ms).
    package init(channel: ExistingRowsChannel, maxRows: Int = 200_000, first: Int64? = nil) {
        self.channel = channel
        self.maxRows = maxRows
        if let first {
            pending = .init(low: first, high: first + Self.day, limit: maxRows)
            channel.post(pending!)
        }
    }

    /// Compares one input row with `scores`, fetching its date's range first if need be.
    ///
    /// - Throws: ``Abandoned``, or the fetch's error.
    @inline(__always)
    package func classify(date: Int64, key: UInt64, row: @autoclosure () -> UInt64) throws -> FingerprintTable.Verdict {
        if last < 0 || date < ranges[last].low || date >= ranges[last].high { last = try range(for: date) }
        let verdict = ranges[last].table.classify(key: key, row: row())
        if verdict == .repeated { throw Abandoned(reason: "a key of scores occurs more than once in the input") }
        return verdict
    }

    private func range(for date: Int64) throws -> Int {
        uses += 1
        if let index = ranges.firstIndex(where: { date >= $0.low && date < $0.high }) {
            ranges[index].lastUse = uses
            return index
        }
        if dropped.contains(where: { date >= $0.low && date < $0.high }) {
            throw Abandoned(reason: "the input came back to dates whose rows were dropped to bound memory (it is not in date order)")
        }
        let waitStarted = DispatchTime.now().uptimeNanoseconds
        defer { secondsWaited += Double(DispatchTime.now().uptimeNanoseconds - waitStarted) / 1e9 }
        var low = date, high = Int64.max, fetched: [RowFingerprint]?
        if let ahead = pending {
            pending = nil
            let answer = try channel.take()
            if date >= ahead.low && date < ahead.high, let answer { (low, high, fetched) = (ahead.low, ahead.high, answer) }
        }
        // From the missed date, up to the next range known (held or dropped).
        let next = nextKnown(from: date)
        while fetched == nil {
            // (Dates are years 1 to 9999: date + span cannot overflow; next - date can.)
            high = min(date + span, next)
            fetched = try channel.fetch(.init(low: date, high: high, limit: maxRows))
            // Too many rows: again with a day's span, unless that was it.
            if fetched == nil && high - date > Self.day { span = Self.day } else { break }
        }
        guard let fingerprints = fetched else {
            throw Abandoned(reason: "scores holds more than \(maxRows) rows from \(CivilTime.format(date)) to \(CivilTime.format(high))")
        }
        fetches += 1
        rowsFetched += fingerprints.count
        span = nextSpan(rows: fingerprints.count, days: (high - low) / Self.day)
        let table = FingerprintTable(fingerprints)
        heldRows += table.count
        while heldRows > maxRows, let oldest = ranges.indices.min(by: { ranges[$0].lastUse < ranges[$1].lastUse }) {
            heldRows -= ranges[oldest].table.count
            dropped.append((ranges[oldest].low, ranges[oldest].high))
            ranges.remove(at: oldest)
        }
        ranges.append(Range(low: low, high: high, table: table, lastUse: uses))
        // Read the next range while the validator works on this one: in a file in date
        // order, that is where it goes next.
        let after = nextKnown(from: high)
        if high < after {
            pending = .init(low: high, high: min(high + span, after), limit: maxRows)
            channel.post(pending!)
        }
        return ranges.count - 1
    }

    /// The span of the next range: as many days as make a quarter of ``maxRows`` at the
    /// density of the range just read, from 1 to 512 days. Each read has a fixed cost (on
    /// Citus, 15 ms to plan and run it on every shard), so a range should be large; a
    /// quarter keeps four ranges within the bound.
    private func nextSpan(rows: Int, days: Int64) -> Int64 {
        let perDay = max(1, rows / Int(max(1, days)))
        return min(512, max(1, Int64(maxRows / 4 / perDay))) * Self.day
    }

    /// The start of the first range known (held or dropped) at or after `date`.
    private func nextKnown(from date: Int64) -> Int64 {
        (ranges.map(\.low) + dropped.map(\.low)).filter { $0 >= date }.min() ?? Int64.max
    }
}
