/// What the client-side comparison keeps of a row: a hash of its key and a hash of the
/// whole row, each taken over the row's fields exactly as binary COPY carries them (length
/// words included). The validator encodes a row for the staging table in the same types,
/// in the same order, as ``ExistingRowsQuery`` has the server send `scores`' rows, so equal
/// bytes mean equal values, and a row whose fingerprint matches needs no write.
///
/// The converse need not hold: bytes that differ for values the server calls equal (`-0.0`
/// and `0.0`) only make a row go through the staging table, where the upsert's own
/// comparison finds it unchanged.
///
/// The hashes are SipHash-1-3 (Swift's `Hasher`) with the process's random seed: a file
/// cannot be crafted to collide with a row it does not know. A row would be wrongly taken as
/// unchanged only if both its 64-bit key hash and its 64-bit row hash matched another's.
struct RowFingerprint: Equatable {
    /// Never 0: the empty slot of a ``FingerprintTable``.
    var key: UInt64
    /// Never 0: the mark of a row whose key the input has already met.
    var row: UInt64

    /// Fields of a row in `scores`: its 21 columns (``ScoreColumn``).
    static let fieldCount = ScoreColumn.allCases.count
    /// The key's fields: ticker, scoring_date, mode.
    static let keyFields = 3

    /// - Parameters:
    ///   - fields: The row's first field (its length word).
    ///   - keyLength: The bytes of the first ``keyFields`` fields.
    ///   - rowLength: The bytes of all ``fieldCount`` fields.
    @inline(__always)
    init(fields: UnsafeRawPointer, keyLength: Int, rowLength: Int) {
        var keyHasher = Hasher()
        keyHasher.combine(bytes: UnsafeRawBufferPointer(start: fields, count: keyLength))
        var rowHasher = Hasher()
        rowHasher.combine(0x726F_77 as UInt32)  // "row": the two hashes differ on the same bytes
        rowHasher.combine(bytes: UnsafeRawBufferPointer(start: fields, count: rowLength))
        key = UInt64(UInt(bitPattern: keyHasher.finalize()))
        row = UInt64(UInt(bitPattern: rowHasher.finalize()))
        if key == 0 { key = 1 }
        if row == 0 { row = 1 }
    }

    init(key: UInt64, row: UInt64) {
        self.key = key
        self.row = row
    }

    /// Walks the fields of one binary COPY row (after its field count) and returns the
    /// lengths ``init(fields:keyLength:rowLength:)`` wants; nil if they overrun `available`.
    static func lengths(of fields: UnsafeRawPointer, available: Int) -> (key: Int, row: Int)? {
        var offset = 0, keyLength = 0
        for field in 0..<fieldCount {
            guard offset + 4 <= available else { return nil }
            let length = Int(Int32(bigEndian: fields.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            offset += 4 + max(0, length)
            guard offset <= available else { return nil }
            if field == keyFields - 1 { keyLength = offset }
        }
        return (keyLength, offset)
    }
}
