import Foundation

/// The keys of a dry run's first pass that may repeat, in fixed memory: a 16 MiB
/// ``BlockedBloomFilter`` and the hashes it may have seen before. False candidates only
/// cost the second pass: expected well under one at 1M keys, some tens of thousands at 10M;
/// past about 25M keys they overflow ``maxCandidates`` and the second pass remembers every key.
///
/// Not `Sendable`: the validator stage fills it, and its pass's outcome hands it on.
package final class KeyScreen {
    /// Most candidates it keeps; past that the second pass checks every key.
    package static let maxCandidates = 250_000

    private let filter = BlockedBloomFilter(bytes: 16 << 20)
    private(set) var candidates: Set<UInt64> = []
    private(set) var overflowed = false

    /// Adds a key; remembers it as a candidate when the filter may have seen it.
    @inline(__always)
    func insert(_ hash: UInt64) {
        guard filter.insert(hash), !overflowed else { return }
        if candidates.count >= Self.maxCandidates {
            overflowed = true
            candidates = []
        } else {
            candidates.insert(hash)
        }
    }
}
