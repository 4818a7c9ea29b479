import Testing
import GreyoakPostgres
import GreyoakIngest

/// FNV-like hashes of consecutive numbers, as real key hashes are.
private func keyHash(_ n: UInt64) -> UInt64 { (0xcbf2_9ce4_8422_2325 ^ n) &* 0x100_0000_01b3 }

@Suite("KeyTable: the dry run's exact set of key hashes")
struct KeyTableTests {
    @Test("a new key stores its value; a repeated one returns the first, replaced only when asked")
    func insertAndReplace() {
        let table = KeyTable()
        #expect(table.insert(42, 1) == nil)
        #expect(table.insert(42, 2) == 1)
        #expect(table.insert(42, 3) == 1, "without replace the first value stays")
        #expect(table.insert(42, 4, replace: true) == 1)
        #expect(table.insert(42, 5) == 4)
        #expect(table.insert(43, 6) == nil)
    }

    /// Key 0 marks an empty slot, so it is stored as 1: the two are one key to the table
    /// (a 1-in-2^64 false duplicate, never a missed one).
    @Test("hash 0 is kept (as 1), not lost as an empty slot")
    func zeroKey() {
        let table = KeyTable()
        #expect(table.insert(0, 7) == nil)
        #expect(table.insert(0, 8) == 7)
        #expect(table.insert(1, 9) == 7)
    }

    /// Past its initial 65,536 slots the table grows, rehashing: every key and value survives.
    @Test("300,000 keys across several growths: each one found again with its value")
    func growth() {
        let table = KeyTable()
        let count = UInt64(300_000)
        for n in 0..<count { #expect(table.insert(keyHash(n), n) == nil) }
        var lost = 0
        for n in 0..<count where table.insert(keyHash(n), 0) != n { lost += 1 }
        #expect(lost == 0)
    }
}

@Suite("DuplicateFilter: a load's candidates for the database's check")
struct DuplicateFilterTests {
    static let ticker = Array("TCS.NS".utf8)

    private func insert(_ filter: DuplicateFilter, _ n: UInt64, writer: Int = 0, mode: Mode = .trader) {
        Self.ticker.withUnsafeBufferPointer {
            filter.insert(hash: keyHash(n), writer: writer, ticker: $0.baseAddress!, tickerLength: $0.count, date: Int64(n), mode: mode)
        }
    }

    @Test("distinct keys name no candidate; a repeated key is named once, on its writer, with its key")
    func candidates() throws {
        let filter = DuplicateFilter(writers: 2)
        for n in 0..<UInt64(100_000) { insert(filter, n, writer: Int(n % 2)) }
        #expect(filter.candidates.allSatisfy { $0.isEmpty })
        insert(filter, 77, writer: 1, mode: .investor)
        #expect(filter.candidates[0].isEmpty)
        let candidate = try #require(filter.candidates[1].first)
        #expect(filter.candidates[1].count == 1)
        #expect(candidate.0 == "TCS.NS" && candidate.1 == 77 && candidate.2 == .investor)
        #expect(!filter.overflowed)
    }

    @Test("past maxCandidates it drops the list and asks for the full check")
    func overflow() {
        let filter = DuplicateFilter(writers: 1)
        for n in 0...UInt64(DuplicateFilter.maxCandidates) {
            insert(filter, n)
            insert(filter, n)
        }
        #expect(filter.overflowed)
        #expect(filter.candidates.allSatisfy { $0.isEmpty })
    }
}

@Suite("CopyEncoder: PostgreSQL's binary COPY format")
struct CopyEncoderTests {
    @Test("header and trailer are the documented signature, flags, extension length and end marker")
    func framing() {
        #expect(CopyEncoder.header == Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(CopyEncoder.header.count == 19)
        #expect(CopyEncoder.trailer == [0xFF, 0xFF])
    }

    @Test("a row: field count, then each field as a big-endian length and value; NULL is length -1")
    func row() {
        let buffer = ByteBuffer(capacity: 8)
        let encoder = CopyEncoder(buffer: buffer)
        encoder.beginRow(fields: 6, textBytes: 8)
        encoder.text(Array("TCS".utf8))
        encoder.null()
        encoder.int4(-2)
        encoder.int8(0x0102_0304_0506_0708)
        encoder.float8(1.5)
        let raw = Array("ab".utf8)
        raw.withUnsafeBytes { encoder.text($0.baseAddress!, $0.count) }
        let expected: [UInt8] = [0, 6]
            + [0, 0, 0, 3] + Array("TCS".utf8)
            + [0xFF, 0xFF, 0xFF, 0xFF]
            + [0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFE]
            + [0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]
            + [0, 0, 0, 8, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]
            + [0, 0, 0, 2] + Array("ab".utf8)
        #expect(Array(buffer.bytes) == expected)
    }

    @Test("rows larger than the buffer grow it; earlier bytes stay")
    func growth() {
        let buffer = ByteBuffer(capacity: 8)
        let encoder = CopyEncoder(buffer: buffer)
        for n in 0..<1000 {
            encoder.beginRow(fields: 1, textBytes: 0)
            encoder.int8(Int64(n))
        }
        #expect(buffer.count == 1000 * 14)
        let bytes = Array(buffer.bytes)
        let last = bytes[(999 * 14 + 6)...].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        #expect(last == 999)
        #expect(Array(bytes[0..<14]) == [0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0])
    }
}
