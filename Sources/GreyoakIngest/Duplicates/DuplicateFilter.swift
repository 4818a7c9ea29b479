import Foundation
import GreyoakPostgres

/// Finds, in bounded memory, the keys that may occur more than once in a run.
///
/// A ``BlockedBloomFilter`` over the 64-bit key hash (8 MiB): a key it has never seen is
/// certainly new; a key it may have seen is kept as a *candidate*, and the database then
/// checks only the candidates exactly (``StagingWriter/duplicates(policy:candidates:limit:)``).
/// A run with no candidates, the usual case, skips the check altogether. Past
/// ``maxCandidates`` (a very large run on a saturated filter) it gives up and asks for the
/// full check.
///
/// Not `Sendable`: the validator stage fills it, and its pass's outcome hands it on.
package final class DuplicateFilter {
    package static let maxCandidates = 100_000

    private let filter = BlockedBloomFilter(bytes: 8 << 20)
    /// Candidate keys per writer: ticker, timestamp micros, mode index.
    package private(set) var candidates: [[(String, Int64, Mode)]]
    package private(set) var overflowed = false
    private var candidateCount = 0

    package init(writers: Int) {
        candidates = Array(repeating: [], count: writers)
    }

    /// Records a key; remembers it as a candidate when the filter may have seen it.
    @inline(__always)
    package func insert(hash: UInt64, writer: Int, ticker: UnsafePointer<UInt8>, tickerLength: Int, date: Int64, mode: Mode) {
        guard filter.insert(hash), !overflowed else { return }
        candidateCount += 1
        if candidateCount > Self.maxCandidates {
            overflowed = true
            candidates = candidates.map { _ in [] }
            return
        }
        candidates[writer].append((String(decoding: UnsafeBufferPointer(start: ticker, count: tickerLength), as: UTF8.self), date, mode))
    }
}
