import Foundation
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// A row of the direct COPY layout as the tests see it: its key and a payload that tells
/// rows apart (the row's number, in f_score).
struct KeyedRow: Equatable {
    var ticker: [UInt8]
    var date: Int64
    var mode: Mode
    var id: Double

    /// PostgreSQL's order for the primary key in the C collation: ticker bytes (a shorter
    /// ticker first when one is a prefix of the other), then date, then mode text.
    static func keyOrder(_ a: KeyedRow, _ b: KeyedRow) -> Bool {
        if a.ticker != b.ticker { return a.ticker.lexicographicallyPrecedes(b.ticker) }
        if a.date != b.date { return a.date < b.date }
        return a.mode.name < b.mode.name
    }
}

/// Encodes rows as the validator does for a direct COPY, with their keys: the key, then the
/// 18 other score columns, some NULL. The rows are read back by `decode`, on their own.
func chunk(_ rows: [KeyedRow]) -> CopyChunk {
    var chunk = CopyChunk(rows: ByteBuffer(capacity: 64))
    let encoder = CopyEncoder(buffer: chunk.rows)
    let values = UnsafeMutablePointer<Double>.allocate(capacity: ScoreCopyRow.valueColumns.count)
    defer { values.deallocate() }
    for row in rows {
        values[0] = row.id
        var present: UInt32 = 1
        for slot in 1..<ScoreCopyRow.valueColumns.count where slot % 3 != 0 {
            values[slot] = Double(slot)
            present |= 1 << UInt32(slot)
        }
        chunk.keys.append(row.ticker.withUnsafeBufferPointer {
            ScoreCopyRow.encode(into: encoder, staged: nil, ticker: $0.baseAddress!, tickerLength: $0.count, date: row.date,
                                mode: row.mode, values: values, present: present, band: nil, guardrails: nil, asOf: nil)
        })
    }
    return chunk
}

/// Reads the direct COPY rows back.
func decode(_ bytes: [UInt8]) -> [KeyedRow] {
    var rows: [KeyedRow] = []
    var offset = 0
    func int<T: FixedWidthInteger>(_ type: T.Type) -> T {
        defer { offset += MemoryLayout<T>.size }
        return bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
    while offset < bytes.count {
        let fields = Int(int(Int16.self))
        var row = KeyedRow(ticker: [], date: 0, mode: .trader, id: -1)
        for field in 0..<fields {
            let length = Int(int(Int32.self))
            guard length >= 0 else { continue }
            let value = Array(bytes[offset..<offset + length])
            switch field {
            case 0: row.ticker = value
            case 1: row.date = value.withUnsafeBytes { Int64(bigEndian: $0.loadUnaligned(as: Int64.self)) }
            case 2: row.mode = Mode.parse(value, value.count)!
            case 3: row.id = Double(bitPattern: value.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) })
            default: break
            }
            offset += length
        }
        rows.append(row)
    }
    return rows
}
