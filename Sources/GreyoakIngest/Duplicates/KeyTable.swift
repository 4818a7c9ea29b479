import Foundation

/// An open-addressing set of 64-bit key hashes with a value each, for dry-run duplicate
/// detection: 16 bytes a slot, key and value side by side (one cache miss an insert, the
/// cost that matters on a table of millions), no per-entry allocation.
package final class KeyTable {
    /// `capacity` slots of (key, value); key 0 marks an empty slot.
    private var slots: UnsafeMutablePointer<UInt64>
    private var capacity = 1 << 16
    private var count = 0

    package init() {
        slots = .allocate(capacity: 2 * capacity)
        slots.initialize(repeating: 0, count: 2 * capacity)
    }

    deinit { slots.deallocate() }

    /// Inserts `key`; returns the value already stored under it, if any (replacing it
    /// with `value` when `replace`).
    package func insert(_ key: UInt64, _ value: UInt64, replace: Bool = false) -> UInt64? {
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
