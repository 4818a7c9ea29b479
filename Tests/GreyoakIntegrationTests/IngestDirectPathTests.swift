import Foundation
import Testing

/// The direct path: a run whose first rows' dates `scores` does not hold copies straight
/// into `scores`; if a key turns out to exist (or to repeat), it starts again through the
/// staging table, and the result must be exactly what the staging path gives.
@Suite("Ingest direct path")
struct IngestDirectPathTests {
    /// 2,100 rows of a fresh date (more than one 2,048-row batch, so the mode is chosen
    /// before the last rows are read), then `tail` appended.
    private func file(_ scratch: IngestScratch, date: String, tail: [ScoreRecord]) throws -> String {
        var records: [ScoreRecord] = []
        for i in 0..<1050 {
            for mode in ["Trader", "Investor"] {
                records.append(ScoreRecord.valid(ticker: "D\(i).NS", date: date, mode: mode))
            }
        }
        return try scratch.write("run-\(date).csv", ScoreRecord.csv(records + tail))
    }

    @Test("new dates load by the direct path; a key that exists after all falls back and counts right")
    func fallsBackWhenAKeyExists() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let existing = ScoreRecord.valid(ticker: "RELIANCE.NS", date: "2024-10-08")
            let first = try scratch.write("existing.csv", ScoreRecord.csv([existing]))
            #expect(try await IngestCLI.ingest(database, [first]).status == 0)

            // All new: one direct COPY, nothing else.
            let fresh = try file(scratch, date: "2025-01-06", tail: [])
            let direct = try await IngestCLI.ingest(database, [fresh, "--json"])
            #expect(direct.status == 0, "\(direct)")
            #expect(try direct.report().inserted == 2100)
            #expect(!direct.stderr.contains("loading again"), "\(direct)")

            // New rows first, then the key loaded above: the direct COPY fails on it, the
            // run goes again through staging and reports it unchanged.
            let mixed = try file(scratch, date: "2025-01-07", tail: [existing])
            let again = try await IngestCLI.ingest(database, [mixed, "--json"])
            #expect(again.status == 0, "\(again)")
            #expect(again.stderr.contains("loading again through the staging table"), "\(again)")
            let report = try again.report()
            #expect(report.inserted == 2100)
            #expect(report.unchanged == 1)
            #expect(report.rowsRead == 2101)
            #expect(try ScoresTable.count(database) == 1 + 2100 + 2100)
        }
    }

    @Test("a key twice after the first batch: the fallback reports both places")
    func duplicateAfterTheFirstBatch() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let twice = ScoreRecord.valid(ticker: "TWICE.NS", date: "2025-02-03")
            let path = try file(scratch, date: "2025-02-03", tail: [twice, twice])
            let result = try await IngestCLI.ingest(database, [path])
            #expect(result.status == 9, "\(result)")
            #expect(result.rowErrors(in: [path]) == [
                "\(path):2103: column ticker: value \"TWICE.NS\": duplicate key (TWICE.NS, 2025-02-03, Trader): also at \(path):2102",
            ], "\(result)")
            #expect(try ScoresTable.count(database) == 0)
        }
    }
}
