import Foundation

/// How a dry run, which has no database to ask, finds keys that occur more than once.
///
/// Exactly, a table of every key costs memory in proportion to the input (about 32 bytes a
/// key). So a dry run over files first *screens* the keys in fixed memory (``KeyScreen``),
/// which names the keys that may repeat and reports nothing; only when it names some does the
/// run read its input a second time, remembering exactly just those keys. Standard input,
/// which cannot be read twice, is checked exactly in one pass.
enum InMemoryDuplicateCheck: Sendable {
    /// First pass: collect the keys that may repeat, in fixed memory.
    case screen
    /// Remember keys exactly and report repeats: all of them, or only `candidates` (key hashes).
    case exact(candidates: Set<UInt64>?)
}

/// The keys of a dry run's first pass that may repeat, in fixed memory: a 16 MiB
/// ``BlockedBloomFilter`` and the hashes it may have seen before. False candidates only
/// cost the second pass: expected well under one at 1M keys, some tens of thousands at 10M;
/// past about 25M keys they overflow ``maxCandidates`` and the second pass remembers every key.
///
/// `@unchecked Sendable`: filled by the validator stage only, read by the pipeline after
/// that stage has ended.
final class KeyScreen: @unchecked Sendable {
    /// Most candidates it keeps; past that the second pass checks every key.
    static let maxCandidates = 250_000

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

/// An open-addressing set of 64-bit key hashes with a value each, for dry-run duplicate
/// detection: 16 bytes a slot, key and value side by side (one cache miss an insert, the
/// cost that matters on a table of millions), no per-entry allocation.
final class KeyTable {
    /// `capacity` slots of (key, value); key 0 marks an empty slot.
    private var slots: UnsafeMutablePointer<UInt64>
    private var capacity = 1 << 16
    private var count = 0

    init() {
        slots = .allocate(capacity: 2 * capacity)
        slots.initialize(repeating: 0, count: 2 * capacity)
    }

    deinit { slots.deallocate() }

    /// Inserts `key`; returns the value already stored under it, if any (replacing it
    /// with `value` when `replace`).
    func insert(_ key: UInt64, _ value: UInt64, replace: Bool = false) -> UInt64? {
        if count * 2 >= capacity { grow() }
        let stored = key == 0 ? 1 : key
        let mask = capacity - 1
        var index = Int(truncatingIfNeeded: stored) & mask
        while true {
            let slot = slots + 2 * index
            if slot[0] == 0 {
                slot[0] = stored
                slot[1] = value
                count += 1
                return nil
            }
            if slot[0] == stored {
                let old = slot[1]
                if replace { slot[1] = value }
                return old
            }
            index = (index + 1) & mask
        }
    }

    private func grow() {
        let old = slots, oldCapacity = capacity
        capacity *= 2
        slots = .allocate(capacity: 2 * capacity)
        slots.initialize(repeating: 0, count: 2 * capacity)
        count = 0
        for index in 0..<oldCapacity where old[2 * index] != 0 { _ = insert(old[2 * index], old[2 * index + 1]) }
        old.deallocate()
    }
}
