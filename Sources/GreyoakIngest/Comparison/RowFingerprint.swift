import GreyoakPostgres
/// What the client-side comparison keeps of a row: a hash of its key and a hash of its
/// values.
///
/// - The key hash is SipHash-1-3 (Swift's `Hasher`, with the process's random seed) over
///   the key's fields exactly as binary COPY carries them, length words included: ticker,
///   scoring_date, mode.
/// - The value hash is one the server can compute where the row lies: the XOR of
///   PostgreSQL's own hash of each of the 18 other columns (``PostgresHash``), each with a
///   seed of its own, drawn at random per process; a NULL adds nothing. The server sends
///   these 8 bytes in place of the row's 200 (``ExistingRowsQuery``), and on Citus each
///   worker hashes its own shards.
///
/// The validator encodes a row for the staging table in the types ``ExistingRowsQuery``
/// hashes `scores`' columns in, so equal values give equal hashes, `-0.0` and `0.0`
/// included (PostgreSQL hashes them alike, as it compares them). A row would be wrongly
/// taken as unchanged only if both its 64-bit key hash and its 64-bit value hash matched
/// another's: a change to one column leaves the value hash unchanged with odds 2^-64.
package struct RowFingerprint: Equatable {
    /// Never 0: the empty slot of a ``FingerprintTable``.
    package var key: UInt64
    /// Never 0: the mark of a row whose key the input has already met.
    package var row: UInt64

    /// Fields of a row in `scores`: its 21 columns (``ScoreColumn``).
    static let fieldCount = ScoreColumn.allCases.count
    /// The key's fields: ticker, scoring_date, mode.
    static let keyFields = 3

    /// How the server and the client hash a value column.
    package enum Kind { case float8, text, timestamp }

    /// The value columns, their kinds and seeds, in staging-table order.
    package static let values: [(column: ScoreColumn, kind: Kind, seed: UInt64)] = {
        var generator = SystemRandomNumberGenerator()
        return ScoreColumn.allCases.dropFirst(keyFields).map { column in
            let kind: Kind = switch column {
            case .band, .guardrails: .text
            case .asOf: .timestamp
            default: .float8
            }
            // Never 0: hashfloat8extended gives a zero the seed itself, and a NULL adds 0.
            return (column, kind, generator.next() | 1)
        }
    }()

    /// The server's side of the value hash: one SQL expression of type bigint.
    package static let valueHashSQL: String = values.map { column, kind, seed in
        let seed = Int64(bitPattern: seed)
        let call = switch kind {
        case .float8: "hashfloat8extended(\(column.name)::float8, \(seed))"
        case .text: "hashtextextended(\(column.name)::text COLLATE \"C\", \(seed))"
        case .timestamp: "timestamp_hash_extended(\(column.name)::timestamp, \(seed))"
        }
        return "coalesce(\(call), 0)"
    }.joined(separator: " # ")

    /// The key hash of a row the validator has just encoded for the staging table, as
    /// ``key`` holds it. Its value hash is ``row(fields:keyLength:)``, taken apart: only a
    /// row whose key `scores` holds needs it.
    ///
    /// - Parameters:
    ///   - fields: The row's first field (its length word).
    ///   - keyLength: The bytes of the first ``keyFields`` fields.
    @inline(__always)
    static func key(fields: UnsafeRawPointer, keyLength: Int) -> UInt64 {
        var keyHasher = Hasher()
        keyHasher.combine(bytes: UnsafeRawBufferPointer(start: fields, count: keyLength))
        return nonzero(UInt64(UInt(bitPattern: keyHasher.finalize())))
    }

    /// The value hash of that row, as ``row`` holds it.
    @inline(__always)
    static func row(fields: UnsafeRawPointer, keyLength: Int) -> UInt64 {
        nonzero(valueHash(fields + keyLength))
    }

    /// A fingerprint from its hashes, made nonzero.
    package init(key: UInt64, row: UInt64) {
        self.key = Self.nonzero(key)
        self.row = Self.nonzero(row)
    }

    @inline(__always)
    private static func nonzero(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }

    /// The value hash of the 18 binary COPY fields at `fields`, as ``valueHashSQL`` computes
    /// it on the server.
    @inline(__always)
    package static func valueHash(_ fields: UnsafeRawPointer) -> UInt64 {
        var hash: UInt64 = 0
        var p = fields
        for (_, kind, seed) in values {
            let length = Int(Int32(bigEndian: p.loadUnaligned(as: Int32.self)))
            p += 4
            guard length >= 0 else { continue }
            switch kind {
            case .float8 where length == 8:
                hash ^= PostgresHash.float8(Double(bitPattern: UInt64(bigEndian: p.loadUnaligned(as: UInt64.self))), seed: seed)
            case .timestamp where length == 8:
                hash ^= PostgresHash.int8(Int64(bigEndian: p.loadUnaligned(as: Int64.self)), seed: seed)
            default:
                hash ^= PostgresHash.bytes(UnsafeRawBufferPointer(start: p, count: length), seed: seed)
            }
            p += length
        }
        return hash
    }
}
