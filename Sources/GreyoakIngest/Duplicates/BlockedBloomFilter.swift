import Foundation

/// A blocked Bloom filter over 64-bit key hashes: each key sets seven bits in one 64-byte
/// block, so an insert costs one cache miss however large the filter. A key it calls new
/// is new; one it may have seen is for its owner to check exactly. Used by
/// ``DuplicateFilter`` (loads) and ``KeyScreen`` (dry runs).
final class BlockedBloomFilter {
    private static let wordsPerBlock = 8
    private let words: UnsafeMutablePointer<UInt64>
    private let blockMask: Int

    /// - Parameter bytes: A power of two, at least 64.
    init(bytes: Int) {
        precondition(bytes >= 64 && bytes & (bytes - 1) == 0, "the filter size must be a power of two")
        // calloc: pages cost no memory until a key lands on them.
        words = calloc(bytes / 8, 8)!.assumingMemoryBound(to: UInt64.self)
        blockMask = bytes / 64 - 1
    }

    deinit { free(words) }

    /// Adds a key; true when every one of its bits was set already (it may have been seen).
    @inline(__always)
    func insert(_ hash: UInt64) -> Bool {
        // The key hashes are FNV-1a: mix them (splitmix64's finaliser) before taking bits.
        var mixed = hash
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        let block = words + (Int(truncatingIfNeeded: mixed >> 32) & blockMask) * Self.wordsPerBlock
        var seen = true
        // The bit positions come from a second mix, independent of the block's bits.
        var bits = mixed &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<7 {
            let bit = Int(truncatingIfNeeded: bits & 511)
            let word = bit >> 6, mask = UInt64(1) << UInt64(bit & 63)
            if block[word] & mask == 0 {
                seen = false
                block[word] |= mask
            }
            bits >>= 9
        }
        return seen
    }
}
