/// The fingerprints of `scores`' rows in one range of dates, by key hash: open addressing
/// with linear probing, at most three quarters full: 21 to 43 bytes a row, allocated once.
///
/// Our own table rather than a `Dictionary`: a lookup must also mark the key as met (to
/// find a key the input repeats), and a `Dictionary<UInt64, UInt64>` costs about twice the
/// memory, which bounds how many rows a re-ingest can compare at once.
package struct FingerprintTable {
    /// What the input's row is, next to what `scores` holds.
    package enum Verdict: Equatable {
        /// `scores` has no row of this key in the range: the row is new.
        case absent
        /// Same key, same values: nothing to write.
        case unchanged
        /// Same key, other values.
        case changed
        /// The input has met this key before (and `scores` holds it).
        case repeated
    }

    private var slots: [UInt64]
    private let mask: Int
    package private(set) var count = 0

    package init(_ fingerprints: [RowFingerprint]) {
        var capacity = 16
        while capacity * 3 < fingerprints.count * 4 { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity * 2)
        mask = capacity - 1
        for fingerprint in fingerprints { insert(fingerprint) }
    }

    /// Memory the table holds, in bytes.
    package var bytes: Int { slots.count * 8 }

    private mutating func insert(_ fingerprint: RowFingerprint) {
        var slot = Int(truncatingIfNeeded: fingerprint.key) & mask
        while slots[2 * slot] != 0 {
            // Two rows of `scores` with one key hash (odds 2^-64 a pair): the first stays; the
            // second's input row is then sent as changed and the upsert sorts it out.
            if slots[2 * slot] == fingerprint.key { return }
            slot = (slot + 1) & mask
        }
        slots[2 * slot] = fingerprint.key
        slots[2 * slot + 1] = fingerprint.row
        count += 1
    }

    /// Compares an input row with `scores`' row of its key, and marks the key as met. The
    /// row's value hash is computed only if `scores` holds its key.
    @inline(__always)
    mutating func classify(key: UInt64, row: @autoclosure () -> UInt64) -> Verdict {
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            let stored = slots[2 * slot]
            if stored == 0 { return .absent }
            if stored == key { break }
            slot = (slot + 1) & mask
        }
        let stored = slots[2 * slot + 1]
        if stored == 0 { return .repeated }
        slots[2 * slot + 1] = 0
        return stored == row() ? .unchanged : .changed
    }
}
