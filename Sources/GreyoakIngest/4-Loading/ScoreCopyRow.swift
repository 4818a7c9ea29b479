import GreyoakPostgres

/// The binary COPY row greyoak sends for `scores`: the one place that knows its layout. The
/// validator writes rows with ``encode(into:staged:ticker:tickerLength:date:mode:values:present:band:guardrails:asOf:)``
/// and hands each row's ``Key`` on with it, compare mode hashes the key's bytes
/// (``keyLength(tickerLength:mode:)``), and ``KeyOrderRuns`` sorts by the keys without
/// reading the rows again.
///
///     field count (int16), then per field its length (int32; -1: NULL) and bytes:
///     ticker (text), scoring_date (int8), mode (text), the 6 pillars, weighted_score,
///     risk_penalty, final_score (float8), band (text), guardrails (text), as_of (int8),
///     the 6 z-scores (float8); a staged row then has the source file (int4) and line (int8)
package enum ScoreCopyRow {
    /// Fields per row copied straight into `scores`: the 21 score columns.
    static let directFields = Int16(ScoreColumn.allCases.count)
    /// Fields per staged row: the 21 score columns, then the source file and line.
    static let stagedFields = directFields + 2
    /// The numeric columns in the order of the `values` slots ``encode`` takes: the six
    /// pillars, weighted, risk, final (slots 0-8, before band), then the six z-scores (9-14).
    static let valueColumns: [ScoreColumn] = ScoreColumn.pillarScores + [.weightedScore, .riskPenalty, .finalScore] + ScoreColumn.zScores
    static let weightedSlot = 6, riskSlot = 7, finalSlot = 8, firstZSlot = 9

    /// Bytes of the key's fields with their lengths (ticker, scoring_date, mode), counted
    /// from the first field's length, two bytes into the row: what compare mode hashes.
    @inline(__always)
    static func keyLength(tickerLength: Int, mode: Mode) -> Int { 4 + tickerLength + 12 + 4 + mode.bytes.count }

    /// Where a row is in its buffer and its primary key, as a direct COPY sorts by it.
    /// `prefix` and `prefix2` are the ticker's first 16 bytes, big-endian, zero-padded: they
    /// order as the ticker's bytes do (C collation, and a ticker has no NUL), so only
    /// tickers longer than 16 bytes with equal prefixes need the bytes themselves, which
    /// start ``tickerOffset`` bytes into the row.
    struct Key {
        var offset: Int
        var length: Int32
        var tickerLength: Int16
        /// The mode's first byte: the two modes differ there ("Investor" < "Trader").
        var modeByte: UInt8
        var prefix: UInt64
        var prefix2: UInt64
        var date: Int64
    }

    /// Where the ticker's bytes begin in a row: after the field count and its length.
    static let tickerOffset = 6

    /// Appends one row and returns its key.
    ///
    /// - Parameters:
    ///   - staged: The source file and line for the staging table; nil for `scores` itself.
    ///   - values: The numeric columns in ``valueColumns`` order; slot `i` is NULL unless bit
    ///     `i` of `present` is set.
    @inline(__always)
    static func encode(into encoder: CopyEncoder, staged: (file: Int32, line: Int64)?, ticker: UnsafePointer<UInt8>,
                       tickerLength: Int, date: Int64, mode: Mode, values: UnsafePointer<Double>, present: UInt32,
                       band: Band?, guardrails: UInt8?, asOf: Int64?) -> Key {
        let offset = encoder.buffer.count
        @inline(__always) func value(_ slot: Int) {
            if present & (1 << UInt32(slot)) != 0 { encoder.float8(values[slot]) } else { encoder.null() }
        }
        encoder.beginRow(fields: staged == nil ? directFields : stagedFields, textBytes: tickerLength + 64)
        encoder.text(ticker, tickerLength)
        encoder.int8(date)
        encoder.text(mode.bytes)
        for slot in 0..<firstZSlot { value(slot) }
        if let band { encoder.text(band.bytes) } else { encoder.null() }
        if let guardrails { encoder.text(ScoreValues.guardrailText[Int(guardrails)]) } else { encoder.null() }
        if let asOf { encoder.int8(asOf) } else { encoder.null() }
        for slot in firstZSlot..<valueColumns.count { value(slot) }
        if let staged {
            encoder.int4(staged.file)
            encoder.int8(staged.line)
        }
        return Key(offset: offset, length: Int32(encoder.buffer.count - offset), tickerLength: Int16(tickerLength),
                   modeByte: mode.bytes[0], prefix: prefix(ticker, tickerLength),
                   prefix2: tickerLength > 8 ? prefix(ticker + 8, tickerLength - 8) : 0, date: date)
    }

    /// The first up to 8 of `length` bytes at `bytes`, big-endian, zero-padded.
    @inline(__always)
    private static func prefix(_ bytes: UnsafePointer<UInt8>, _ length: Int) -> UInt64 {
        var prefix: UInt64 = 0
        for i in 0..<8 { prefix = prefix << 8 | UInt64(i < length ? bytes[i] : 0) }
        return prefix
    }
}

/// COPY rows on their way from the validator to a writer, with the key of each when they go
/// straight into `scores` (``KeyOrderRuns`` sorts by them); no keys for the staging table.
package struct CopyChunk {
    package var rows: ByteBuffer
    var keys: [ScoreCopyRow.Key] = []
}
