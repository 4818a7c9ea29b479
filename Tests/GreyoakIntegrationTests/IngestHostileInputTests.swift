import Foundation
import Testing
import GreyoakTestSupport

/// A hostile file: its bytes, and where and how greyoak must refuse it.
struct HostileFile: Sendable, CustomTestStringConvertible {
    var name: String
    var make: @Sendable () throws -> Data
    /// How the error line starts after the path (`:record 1:`, `:3:` or `:` for the file).
    var location: String
    var message: String
    var extraArguments: [String] = []

    var testDescription: String { name }

    static func text(_ text: String) -> @Sendable () throws -> Data { { Data(text.utf8) } }

    static func gzip(_ text: String, then tail: @escaping @Sendable ([UInt8]) -> [UInt8]) -> @Sendable () throws -> Data {
        {
            // gzip's own output (of a file, as a user would make it): the tests do not trust
            // our reading of our own encoder.
            let plain = NSTemporaryDirectory() + "greyoak-hostile-\(UUID().uuidString)"
            try Data(text.utf8).write(to: URL(fileURLWithPath: plain))
            defer { try? FileManager.default.removeItem(atPath: plain) }
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            gzip.arguments = ["gzip", "-c", "-n", plain]
            let compressed = Pipe()
            gzip.standardOutput = compressed
            try gzip.run()
            let data = compressed.fileHandleForReading.readDataToEndOfFile()
            gzip.waitUntilExit()
            return Data(tail(Array(data)))
        }
    }

    static let header = "ticker,scoring_date,mode\n"

    static let all: [HostileFile] = [
        // The four of the issue.
        HostileFile(name: "lone-surrogate.json", make: text(#"[{"ticker": "TCS.NS\uD800\u0041", "scoring_date": "2024-10-08", "mode": "Trader"}]"#),
                    location: ":record 1:", message: "malformed JSON at line 1: a lone high surrogate \\uD800 (followed by \\u0041, not a low one)"),
        HostileFile(name: "deep.json", make: text(#"{"ticker": "# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"),
                    location: ":record 1:", message: "arrays and objects nested more than 64 deep (the limit)"),
        HostileFile(name: "deep.ndjson", make: text(String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000) + "\n"),
                    location: ":record 1:", message: "arrays and objects nested more than 64 deep (the limit)", extraArguments: ["--ignore-unknown-fields"]),
        HostileFile(name: "bad-escape.json", make: text(#"[{"ticker": "TCS\q", "scoring_date": "2024-10-08", "mode": "Trader"}]"#),
                    location: ":record 1:", message: "an invalid escape \\q in a string"),
        HostileFile(name: "bomb.csv.gz", make: gzip(header + "\"" + String(repeating: "A", count: 3 << 20) + "\",2024-10-08,Trader\n", then: { $0 }),
                    location: ":2:", message: "a record longer than 1048576 bytes (the limit; raise it with --max-record-bytes)"),
        // And their relatives.
        HostileFile(name: "huge-line.ndjson", make: text(#"{"ticker": ""# + String(repeating: "A", count: 2 << 20) + "\"}\n"),
                    location: ":record 1:", message: "a record longer than 1048576 bytes (the limit; raise it with --max-record-bytes)"),
        HostileFile(name: "trailing.json", make: text(#"[{"ticker": "A", "scoring_date": "2024-10-08", "mode": "Trader"}] []"#),
                    location: ":1:", message: "malformed JSON: unexpected text after the JSON value"),
        HostileFile(name: "nan.json", make: text(#"[{"ticker": "A", "f_z": NaN}]"#),
                    location: ":record 1:", message: "NaN and Infinity are not JSON"),
        HostileFile(name: "twice.json", make: text(#"[{"ticker": "A", "scoring_date": "2024-10-08", "mode": "Trader", "mode": "Investor"}]"#),
                    location: ":record 1:", message: "column mode: names column mode twice"),
        HostileFile(name: "not-utf8.json", make: { Data(#"[{"ticker": ""#.utf8) + Data([0xC0, 0xAF]) + Data(#""}]"#.utf8) },
                    location: ":record 1:", message: "a string is not valid UTF-8 (byte 0xC0)"),
        HostileFile(name: "nul.csv", make: { Data((header + "A").utf8) + Data([0]) + Data("B,2024-10-08,Trader\n".utf8) },
                    location: ":2:", message: "column ticker: contains a NUL byte (at byte 2 of the field)"),
        HostileFile(name: "not-utf8.csv", make: { Data((header + "A,2024-10-08,").utf8) + Data([0x54, 0xFF]) + Data("\n".utf8) },
                    location: ":2:", message: "column mode: is not valid UTF-8 (byte 0xFF at byte 2 of the field)"),
        HostileFile(name: "truncated.csv.gz", make: gzip(header + "A,2024-10-08,Trader\n", then: { Array($0.dropLast(5)) }),
                    location: ":", message: "the gzip data ends inside member 1 (truncated file?)"),
        HostileFile(name: "bad-crc.csv.gz", make: gzip(header + "A,2024-10-08,Trader\n", then: { var data = $0; data[data.count - 8] ^= 0xFF; return data }),
                    location: ":", message: "incorrect data check"),
        HostileFile(name: "garbage.csv.gz", make: gzip(header + "A,2024-10-08,Trader\n", then: { $0 + Array("<html>".utf8) }),
                    location: ":", message: "trailing bytes after gzip member 1 are not gzip data"),
    ]
}

@Suite("Ingest: hostile input is refused, located, and loads nothing", .sharedIngestDatabase)
struct IngestHostileInputTests {
    @Test("exit 9, one located error, nothing loaded", arguments: HostileFile.all)
    func refused(_ hostile: HostileFile) async throws {
        let database = try SharedIngestDatabase.require()
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let path = try scratch.write(hostile.name, bytes: try hostile.make())
        let result = try await IngestCLI.ingest(database, [path, "--json"] + hostile.extraArguments)
        #expect(result.status == 9, "\(result)")
        let errors = result.rowErrors(in: [path])
        #expect(errors.count == 1, "expected one error line:\n\(result)")
        let line = try #require(errors.first)
        #expect(line.hasPrefix(path + hostile.location + " "), "\(line)")
        #expect(line.contains(hostile.message), "expected \"\(hostile.message)\" in \(line)")
        #expect(result.stderr.contains("nothing was loaded"), "\(result)")
        #expect(try ScoresTable.count(database) == 0)
    }

    @Test("a concatenated .gz is read whole, as gzip -d reads it")
    func concatenatedGzip() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let rows = ScoreRecord.csv([.valid(ticker: "AAA.NS"), .valid(ticker: "BBB.NS")]).split(separator: "\n").map(String.init)
            let first = try HostileFile.gzip(rows[0] + "\n" + rows[1] + "\n", then: { $0 })()
            let second = try HostileFile.gzip(rows[2] + "\n", then: { $0 })()
            let path = try scratch.write("two-members.csv.gz", bytes: first + second)
            let result = try await IngestCLI.ingest(database, [path, "--json"])
            #expect(result.status == 0, "\(result)")
            #expect(try result.report().inserted == 2)
        }
    }
}
