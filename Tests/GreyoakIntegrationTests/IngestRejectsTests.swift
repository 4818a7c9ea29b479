import Foundation
import GreyoakTestSupport
import Testing

/// A file of nothing but bad rows, in every mode: exact counts, and every rejected row in
/// the rejects file whatever its fault (a short or long row is rejected by the parser, a
/// bad value by the validator). The memory such a file takes is measured by
/// `scripts/bench --scenarios bad-input` (a test asserts no resource use).
@Suite("Ingest: bad rows are counted exactly and each reaches --rejects")
struct IngestRejectsTests {
    static let badLines = 200_000

    /// A valid header, then `badLines` lines that each read `,`: two fields where the header
    /// has three.
    static func commas(_ scratch: IngestScratch) throws -> String {
        try scratch.write("commas.csv", "ticker,scoring_date,mode\n" + String(repeating: ",\n", count: badLines))
    }

    @Test("a file of 200k short rows: refused with exact counts, in a load and a dry run", arguments: [false, true])
    func refusedWithCounts(dryRun: Bool) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let path = try Self.commas(scratch)
            let result = try await IngestCLI.ingest(database, [path, "--json"] + (dryRun ? ["--dry-run"] : []))
            #expect(result.status == 9, "\(result)")
            let errors = result.rowErrors(in: [path])
            #expect(errors.count == 20, "\(result)")
            #expect(errors.first == "\(path):2: has 2 fields, the header has 3", "\(errors)")
            #expect(result.stderr.contains("… and \(Self.badLines - 20) more error(s)"), "\(result)")
            #expect(result.stderr.contains("nothing was loaded: \(Self.badLines) of \(Self.badLines) rows are invalid"), "\(result)")
            #expect(try ScoresTable.count(database) == 0)
        }
    }

    @Test("--max-errors N --rejects FILE: every one of 200k short rows is in FILE")
    func everyShortRowRejected() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let path = try Self.commas(scratch)
            let rejects = scratch.file("rejects.jsonl")
            let result = try await IngestCLI.ingest(database, [path, "--max-errors", String(Self.badLines), "--rejects", rejects, "--json"])
            #expect(result.status == 0, "\(result)")
            let report = try result.report()
            #expect(report.rowsRead == Self.badLines && report.rejected == Self.badLines && report.inserted == 0, "\(report)")
            let lines = try scratch.read("rejects.jsonl").split(separator: "\n")
            #expect(lines.count == Self.badLines)
            let last = try #require(try JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [String: Any])
            #expect(last["location"] as? String == String(Self.badLines + 1))
            #expect(last["errors"] as? [String] == ["\(path):\(Self.badLines + 1): has 2 fields, the header has 3"], "\(last)")
            #expect((last["rules"] as? [[String: Any]])?.first?["rule"] as? String == "field_count", "\(last)")
            #expect((last["row"] as? [String: Any])?.isEmpty == true, "\(last)")

            // One more bad row than allowed: refused, and no rejects file is left.
            let refused = try await IngestCLI.ingest(database, [path, "--max-errors", String(Self.badLines - 1), "--rejects", rejects])
            #expect(refused.status == 9, "\(refused)")
            #expect(!FileManager.default.fileExists(atPath: rejects))
        }
    }

    @Test("short rows, long rows and bad values all reach --rejects, with the fields they have")
    func everyFaultRejected() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let path = try scratch.write("faults.csv", """
                ticker,scoring_date,mode,final_score
                AAA.NS,2024-10-08,Trader,50
                BBB.NS,2024-10-08
                CCC.NS
                DDD.NS,2024-10-08,Trader,50,extra
                EEE.NS,2024-10-08,Trader,900

                """)
            let rejects = scratch.file("rejects.jsonl")
            let result = try await IngestCLI.ingest(database, [path, "--max-errors", "4", "--rejects", rejects, "--json"])
            #expect(result.status == 0, "\(result)")
            let report = try result.report()
            #expect(report.rowsRead == 5 && report.inserted == 1 && report.rejected == 4, "\(report)")
            #expect(try ScoresTable.count(database) == 1)

            let lines = try scratch.read("rejects.jsonl").split(separator: "\n")
            try #require(lines.count == 4, "\(lines)")
            let expected: [(location: String, rule: String, row: [String: String])] = [
                ("3", "field_count", ["ticker": "BBB.NS", "scoring_date": "2024-10-08"]),
                ("4", "field_count", ["ticker": "CCC.NS"]),
                // The fields past the header name no column: the row holds those it names.
                ("5", "field_count", ["ticker": "DDD.NS", "scoring_date": "2024-10-08", "mode": "Trader", "final_score": "50"]),
                ("6", "out_of_range", ["ticker": "EEE.NS", "scoring_date": "2024-10-08", "mode": "Trader", "final_score": "900"]),
            ]
            for (line, want) in zip(lines, expected) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                #expect(object["file"] as? String == path)
                #expect(object["location"] as? String == want.location, "\(line)")
                let rules = try #require(object["rules"] as? [[String: Any]], "\(line)")
                #expect(rules.map { $0["rule"] as? String } == [want.rule], "\(line)")
                #expect(object["row"] as? [String: String] == want.row, "\(line)")
            }
        }
    }

    @Test("JSON records the parser rejects reach --rejects too")
    func jsonFaultsRejected() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let path = try scratch.write("faults.json", """
                [{"ticker": "AAA.NS", "scoring_date": "2024-10-08", "mode": "Trader"},
                 {"ticker": "BBB.NS", "scoring_date": "2024-10-08", "mode": "Trader", "mode": "Investor"},
                 42]
                """)
            let rejects = scratch.file("rejects.jsonl")
            let result = try await IngestCLI.ingest(database, [path, "--max-errors", "2", "--rejects", rejects, "--json"])
            #expect(result.status == 0, "\(result)")
            let report = try result.report()
            #expect(report.rowsRead == 3 && report.inserted == 1 && report.rejected == 2, "\(report)")
            let lines = try scratch.read("rejects.jsonl").split(separator: "\n")
            try #require(lines.count == 2, "\(lines)")
            let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(objects.map { $0["location"] as? String } == ["record 2", "record 3"])
            #expect(objects.map { ($0["rules"] as? [[String: Any]])?.first?["rule"] as? String } == ["field_named_twice", "not_a_score_object"])
            #expect(objects[0]["row"] as? [String: String] == ["ticker": "BBB.NS", "scoring_date": "2024-10-08", "mode": "Trader"])
        }
    }
}
