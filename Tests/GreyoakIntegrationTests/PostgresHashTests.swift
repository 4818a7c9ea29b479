import Foundation
import Testing
import GreyoakTestSupport
import GreyoakPostgres
import GreyoakIngest

/// The compare mode trusts the client's copy of PostgreSQL's hash functions to give the
/// server's values bit for bit: checked here against the server, for every length of text a
/// lookup3 block can end on, the floats whose hashing is special-cased, and whole rows of
/// `scores` (which also checks that ``RowFingerprint/valueHashSQL`` and
/// ``RowFingerprint/valueHash(_:)`` take the columns in one order, with one seed each).
@Suite("PostgreSQL's hash functions in the client")
struct PostgresHashTests {
    private static let seeds: [UInt64] = [0, 1, 0xFFFF_FFFF_FFFF_FFFF, 0x0123_4567_89AB_CDEF, 0x8000_0000_0000_0000, 42 << 32]
    private static var seedArray: String { "{" + seeds.map { String(Int64(bitPattern: $0)) }.joined(separator: ",") + "}" }

    /// The server's hashes of one value under every seed, in ``seeds``' order.
    private func serverHashes(_ connection: Connection, _ call: String, _ value: String) throws -> [UInt64] {
        try connection.execute("SELECT (\(call))::text FROM unnest($2::int8[]) WITH ORDINALITY AS s(seed, n) ORDER BY n",
                               [value, Self.seedArray]).column.map { UInt64(bitPattern: Int64($0)!) }
    }

    @Test("hash_bytes_extended over text of every length from 0 to 40 bytes, ASCII and UTF-8")
    func text() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            var generator = SystemRandomNumberGenerator()
            let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;-_")
            var values = (0...40).map { length in String((0..<length).map { _ in letters.randomElement(using: &generator)! }) }
            values += ["Ünïcødé", "株式会社", "emoji 🦊 in a guardrail", "Strong Buy", "Trader", "Investor"]
            for value in values {
                let expected = try serverHashes(connection, "hashtextextended($1::text COLLATE \"C\", seed)", value)
                let actual = Self.seeds.map { seed in Array(value.utf8).withUnsafeBytes { PostgresHash.bytes($0, seed: seed) } }
                #expect(actual == expected, "\(value.debugDescription) (\(value.utf8.count) bytes)")
            }
        }
    }

    @Test("hashfloat8extended: zeros of both signs, NaN, infinities, subnormals and ordinary values")
    func float8() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            var values: [Double] = [0, -0.0, 1, -1, 0.1, 87.5, -3.25e-7, 1e300, -1e-300, 5e-324, .greatestFiniteMagnitude,
                                    .infinity, -.infinity, .nan]
            values += (0..<30).map { _ in Double.random(in: -100...100) }
            for value in values {
                let text = value.isNaN ? "NaN" : value == .infinity ? "Infinity" : value == -.infinity ? "-Infinity" : "\(value)"
                let expected = try serverHashes(connection, "hashfloat8extended($1::float8, seed)", text)
                #expect(Self.seeds.map { PostgresHash.float8(value, seed: $0) } == expected, "\(value)")
            }
        }
    }

    @Test("timestamp_hash_extended, before and after 2000-01-01, over the microseconds binary COPY carries")
    func timestamp() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            for value in ["2000-01-01", "1999-12-31 23:59:59.999999", "2024-10-08", "1900-02-28 12:00:00.5", "9999-12-31 23:59:59",
                          "0001-01-01", "2070-06-30 01:02:03.456789"] {
                let micros = Int64(try connection.execute("SELECT (extract(epoch FROM $1::timestamp - '2000-01-01') * 1000000)::int8::text",
                                                          [value])[0, 0]!)!
                let expected = try serverHashes(connection, "timestamp_hash_extended($1::timestamp, seed)", value)
                #expect(Self.seeds.map { PostgresHash.int8(micros, seed: $0) } == expected, "\(value)")
            }
        }
    }

    @Test("a row's value hash: the server's SQL over scores and the client's over the row's binary COPY fields agree")
    func rows() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let connection = try database.connect()
            try connection.execute("""
                INSERT INTO scores (ticker, scoring_date, mode, f_score, t_score, r_score, o_score, q_score, s_score,
                                    weighted_score, risk_penalty, final_score, band, guardrails, as_of, f_z, s_z)
                VALUES ('AAA', '2024-10-08', 'Trader', 10, -0.0, NULL, 0.125, 99.99, 1e-9, 55, 0, 55, 'Strong Buy', 'LowLiquidity', '2024-10-08 16:30', -1.5, NULL),
                       ('BBB', '2024-10-08', 'Investor', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                       ('CCC', '2024-10-09', 'Trader', 1, 2, 3, 4, 5, 6, 7, 8, 9, 'Avoid', 'ü', '1999-01-01', 1, 2)
                """)
            let casts = RowFingerprint.values.map { column, kind, _ in
                switch kind {
                case .float8: "\(column.name)::float8"
                case .text: "\(column.name)::text"
                case .timestamp: "\(column.name)::timestamp"
                }
            }
            let expected = try connection.execute("SELECT (\(RowFingerprint.valueHashSQL))::text FROM scores ORDER BY ticker").column
                .map { UInt64(bitPattern: Int64($0)!) }
            var actual: [UInt64] = []
            var first = true
            _ = try connection.copyOut("COPY (SELECT \(casts.joined(separator: ", ")) FROM scores ORDER BY ticker) TO STDOUT (FORMAT binary)") { message in
                guard var row = message.baseAddress, message.count > 19 else { return }
                if first { row += 19; first = false }
                guard Int16(bigEndian: row.loadUnaligned(as: Int16.self)) == Int16(casts.count) else { return }
                actual.append(RowFingerprint.valueHash(row + 2))
            }
            #expect(expected.count == 3)
            #expect(actual == expected)
            #expect(Set(actual).count == 3)
        }
    }
}
