import Foundation

/// Finds, in bounded memory, the keys that may occur more than once in a run.
///
/// A Bloom filter over the 64-bit key hash: a key it has never seen is certainly new; a key
/// it may have seen is kept as a *candidate*, and the database then checks only the
/// candidates exactly (``StagingWriter/duplicates(policy:candidates:limit:)``). A run with
/// no candidates, the usual case, skips the check altogether. Past ``maxCandidates`` (a
/// very large run on a saturated filter) it gives up and asks for the full check.
final class DuplicateFilter: @unchecked Sendable {
    /// 8 MiB of bits: a false-candidate rate near zero up to a few million rows.
    private static let bitCount = 1 << 26
    private static let hashes = 4
    static let maxCandidates = 100_000

    private var bits: UnsafeMutablePointer<UInt64>
    /// Candidate keys per writer: ticker, timestamp micros, mode index.
    private(set) var candidates: [[(String, Int64, Int)]]
    private(set) var overflowed = false
    private var candidateCount = 0

    init(writers: Int) {
        // calloc: the kernel's zero pages cost no memory until a key lands on them.
        bits = calloc(Self.bitCount / 64, 8)!.assumingMemoryBound(to: UInt64.self)
        candidates = Array(repeating: [], count: writers)
    }

    // Filled by the validator stage only, read by the pipeline after that stage ended.
    deinit { Foundation.free(bits) }

    /// Records a key; remembers it as a candidate when the filter may have seen it.
    @inline(__always)
    func insert(hash: UInt64, writer: Int, ticker: UnsafePointer<UInt8>, tickerLength: Int, date: Int64, mode: Int) {
        let h1 = UInt32(truncatingIfNeeded: hash), h2 = UInt32(truncatingIfNeeded: hash >> 32) | 1
        var seen = true
        for i in 0..<UInt32(Self.hashes) {
            let bit = Int((h1 &+ i &* h2) & UInt32(Self.bitCount - 1))
            let word = bit >> 6, mask = UInt64(1) << UInt64(bit & 63)
            if bits[word] & mask == 0 {
                seen = false
                bits[word] |= mask
            }
        }
        guard seen, !overflowed else { return }
        candidateCount += 1
        if candidateCount > Self.maxCandidates {
            overflowed = true
            candidates = candidates.map { _ in [] }
            return
        }
        candidates[writer].append((String(decoding: UnsafeBufferPointer(start: ticker, count: tickerLength), as: UTF8.self), date, mode))
    }
}
