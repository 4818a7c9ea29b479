import Foundation

/// What the member names of JSON score records mean, cached by position in a record (and
/// in its `pillars`): records repeat their keys in the same order, so a key costs one
/// `memcmp`. Also the names of the fields dropped, for the one notice per file.
final class JSONKeyTable {
    /// What a member name of a record means.
    enum Meaning: Equatable {
        case column(ScoreColumn)
        /// The API's `pillars` object, whose members are pillar scores.
        case pillars
        /// A field greyoak knowingly drops (see ``ScoreColumn/ignoredFields``).
        case ignored
        case unknown
    }

    private static let slots = 64, keyBytes = 64

    private let keys: UnsafeMutablePointer<UInt8>
    private let lengths: UnsafeMutablePointer<Int>
    private let meanings: UnsafeMutablePointer<Meaning>
    /// The position of the next key in the open record, and in its `pillars`.
    private var keyOrdinal = 0
    private var pillarOrdinal = 0
    /// The names of fields dropped, at most 32 (a hostile file could name a million).
    private(set) var ignored = Set<String>()

    init() {
        let count = 2 * Self.slots
        keys = .allocate(capacity: count * Self.keyBytes)
        lengths = .allocate(capacity: count)
        lengths.initialize(repeating: -1, count: count)
        meanings = .allocate(capacity: count)
        meanings.initialize(repeating: .unknown, count: count)
    }

    deinit {
        keys.deallocate()
        lengths.deallocate()
        meanings.deallocate()
    }

    /// A record begins: its keys count from the first again.
    func beginRecord() { keyOrdinal = 0 }

    /// A record's `pillars` object begins.
    func beginPillars() { pillarOrdinal = 0 }

    func noteIgnored(_ name: String) {
        if ignored.count < 32 { ignored.insert(name) }
    }

    /// The meaning of the next key of a record (or of its `pillars`), from the cache when the
    /// record before had the same key at the same position.
    @inline(__always) func meaning(of bytes: UnsafeRawBufferPointer, pillars: Bool) -> Meaning {
        let ordinal: Int
        if pillars {
            ordinal = pillarOrdinal
            pillarOrdinal += 1
        } else {
            ordinal = keyOrdinal
            keyOrdinal += 1
        }
        let cacheable = ordinal < Self.slots && bytes.count <= Self.keyBytes
        let slot = ordinal + (pillars ? Self.slots : 0)
        if cacheable, lengths[slot] == bytes.count,
           bytes.count == 0 || memcmp(keys + slot * Self.keyBytes, bytes.baseAddress!, bytes.count) == 0 {
            return meanings[slot]
        }
        let name = (pillars ? "pillars." : "") + String(decoding: bytes, as: UTF8.self)
        let meaning: Meaning
        if !pillars, name.lowercased() == "pillars" {
            meaning = .pillars
        } else {
            switch ScoreColumn.meaning(ofField: name) {
            case let .column(column): meaning = .column(column)
            case .ignored:
                meaning = .ignored
                noteIgnored(name)
            case .unknown: meaning = .unknown
            }
        }
        if cacheable {
            if bytes.count > 0 { (keys + slot * Self.keyBytes).update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
            lengths[slot] = bytes.count
            meanings[slot] = meaning
        }
        return meaning
    }
}
