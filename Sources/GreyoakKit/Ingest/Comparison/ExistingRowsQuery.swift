/// Reads the fingerprints of `scores`' rows in a range of scoring dates: one
/// `COPY (SELECT ...) TO STDOUT (FORMAT binary)` over the scoring_date index, with every
/// column in the staging table's order and type (see ``RowFingerprint``).
///
/// Runs on the coordinator's connection, which holds the ``LoadLock`` meanwhile: no other
/// greyoak run writes `scores` between this read and the commit. On Citus the SELECT runs
/// on every shard in parallel and the coordinator merges the rows.
enum ExistingRowsQuery {
    /// The columns as the staging table types them: `band` as its label, the rest as they are
    /// (the casts only pin the types, should a migration change one).
    static let columns = ScoreColumn.allCases.map { column in
        switch column {
        case .ticker, .mode, .guardrails: "\(column.name)::text"
        case .band: "band::text"
        case .scoringDate, .asOf: "\(column.name)::timestamp"
        default: "\(column.name)::float8"
        }
    }

    static func sql(from low: Int64, to high: Int64) -> String {
        """
        COPY (SELECT \(columns.joined(separator: ", ")) FROM scores
              WHERE scoring_date >= '\(CivilTime.format(low))' AND scoring_date < '\(CivilTime.format(high))') TO STDOUT (FORMAT binary)
        """
    }

    /// The range's fingerprints; nil when there are more than `limit` rows.
    static func fetch(_ connection: Connection, from low: Int64, to high: Int64, limit: Int) throws -> [RowFingerprint]? {
        var fingerprints: [RowFingerprint] = []
        var first = true
        var overflowed = false
        try connection.copyOut(sql(from: low, to: high)) { message in
            guard var p = message.baseAddress else { return }
            var left = message.count
            if first {
                // The binary header (signature, flags, extension length) comes with the first row.
                guard left >= 19, message.prefix(11).elementsEqual(CopyEncoder.header.prefix(11)) else { throw malformed("no binary COPY header") }
                let extensionLength = Int(Int32(bigEndian: p.loadUnaligned(fromByteOffset: 15, as: Int32.self)))
                guard extensionLength >= 0, 19 + extensionLength <= left else { throw malformed("a bad header extension") }
                p += 19 + extensionLength
                left -= 19 + extensionLength
                first = false
            }
            while left >= 2 {
                let fields = Int(Int16(bigEndian: p.loadUnaligned(as: Int16.self)))
                if fields == -1 { return }
                guard fields == RowFingerprint.fieldCount,
                      let (keyLength, rowLength) = RowFingerprint.lengths(of: p + 2, available: left - 2) else {
                    throw malformed("a row that is not \(RowFingerprint.fieldCount) whole fields")
                }
                if fingerprints.count == limit { overflowed = true }
                if !overflowed { fingerprints.append(RowFingerprint(fields: p + 2, keyLength: keyLength, rowLength: rowLength)) }
                p += 2 + rowLength
                left -= 2 + rowLength
            }
            guard left == 0 else { throw malformed("a row split between messages") }
        }
        return overflowed ? nil : fingerprints
    }

    private static func malformed(_ what: String) -> PostgresError {
        PostgresError(code: .protocolViolation, message: "the rows of scores came back with \(what)", activity: "reading the rows of scores to compare")
    }
}
