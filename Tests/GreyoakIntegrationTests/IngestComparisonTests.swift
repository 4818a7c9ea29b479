import Foundation
import Testing
import GreyoakTestSupport

/// The compare mode: a run whose first rows' dates `scores` holds reads those dates' rows
/// (binary COPY out) and sends only the rows that differ. Its result must be exactly what
/// loading the input into an empty table gives (every key of `scores` is in the input), with
/// the counts the table's timestamps bear out, and the rows it finds unchanged must never
/// reach the server.
@Suite("Ingest compare mode")
struct IngestComparisonTests {
    /// Rows inserted into the shared staging table so far, by every session (the
    /// statistics of the server's exited sessions are flushed as they end: waits for them).
    private func stagedSoFar(_ database: TestDatabase, atLeast: Int = 0) async throws -> Int {
        var rows = 0
        for _ in 0..<50 {
            rows = Int(try database.column("SELECT coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'greyoak_stage'), 0)")[0]) ?? 0
            if rows >= atLeast { return rows }
            try await Task.sleep(for: .milliseconds(100))
        }
        return rows
    }

    @Test("a re-ingest with new, changed and unchanged rows, from a file or standard input, writes what differs and sends nothing else",
          arguments: [false, true])
    func writesWhatDiffers(fromStdin: Bool) async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = scratch.file("base.csv"), input = scratch.file("input.csv")
        try GenScores.run(["--tickers", "300", "--days", "3", "--seed", "11", "--out", base])
        // The same three days with 10% of rows changed, and a fourth, new day.
        let changed = try GenScores.run(["--tickers", "300", "--days", "4", "--seed", "11", "--changed-fraction", "0.1",
                                         "--change-seed", "5", "--out", input])
        #expect(changed > 0)

        try await withTestDatabase { compared in
            try await withTestDatabase(holdingSlot: false) { expected in
                try await IngestCLI.upgradeHead(compared)
                try await IngestCLI.upgradeHead(expected)
                #expect(try await IngestCLI.ingest(compared, [base]).status == 0)
                #expect(try await IngestCLI.ingest(expected, [input]).status == 0)
                let sentBefore = try await stagedSoFar(compared)
                let baseLoaded = try compared.column("SELECT max(created_at)::text FROM scores")[0]

                let run = try await CLI.run(["ingest", "--no-progress", "--json"] + (fromStdin ? ["-", "--format", "csv"] : [input]),
                                            databaseURL: compared.url, migrations: IngestRepo.migrations,
                                            environment: ["GREYOAK_LOG_LEVEL": "debug"], stdin: fromStdin ? input : nil)
                #expect(run.status == 0, "\(run)")
                #expect(run.stderr.contains("compared with 1800 rows of scores"), "\(run)")
                #expect(try ScoresTable.snapshot(compared) == (try ScoresTable.snapshot(expected)))

                let report = try run.report()
                let updated = Int(try compared.column("SELECT count(*) FROM scores WHERE updated_at > created_at")[0])
                let inserted = Int(try compared.column("SELECT count(*) FROM scores WHERE created_at > $1::timestamp", [baseLoaded])[0])
                #expect(report.inserted == 600 && inserted == 600)
                #expect(report.updated == updated && updated! > 0 && updated! <= changed)
                #expect(report.unchanged == 1800 - report.updated)
                // Exactly the new and changed rows went to the server (the staging table is the
                // shared one, so its statistics count them; the test cluster loads in two phases).
                if report.writers > 1 {
                    let sent = try await stagedSoFar(compared, atLeast: sentBefore + report.inserted + report.updated) - sentBefore
                    #expect(sent == report.inserted + report.updated)
                }
            }
        }
    }

    /// `-0` and `0` are different bytes but equal values: the comparison sends the row, and
    /// the upsert's own comparison finds it unchanged, so nothing is written.
    @Test("a value equal but not byte-equal (-0 for 0) is found unchanged, and not written")
    func equalValuesOfOtherBytes() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let row = ScoreRecord.valid(ticker: "ZERO.NS").with(["f_z": "0"])
            #expect(try await IngestCLI.ingest(database, [try scratch.write("zero.csv", ScoreRecord.csv([row]))]).status == 0)
            let written = try database.column("SELECT xmin::text FROM scores")

            let again = try await IngestCLI.ingest(database, [try scratch.write("minus.csv", ScoreRecord.csv([row.with(["f_z": "-0"])])), "--json"])
            #expect(again.status == 0, "\(again)")
            #expect(try again.report().unchanged == 1)
            #expect(try again.report().updated == 0)
            #expect(try database.column("SELECT xmin::text FROM scores") == written)
        }
    }

    /// A key of `scores` twice in the input: the comparison cannot tell which occurrence to
    /// keep, so the run goes again through the staging table, which finds the repeat.
    @Test("a key of scores repeated in the input: refused as by the staging path, or the last kept")
    func repeatedKeyFallsBack() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let rows = (0..<5).map { ScoreRecord.valid(ticker: "R\($0).NS") }
            #expect(try await IngestCLI.ingest(database, [try scratch.write("base.csv", ScoreRecord.csv(rows))]).status == 0)
            let before = try ScoresTable.snapshot(database)

            let file = try scratch.write("twice.csv", ScoreRecord.csv(rows + [rows[2].with(RuleCase.scored("80", "Strong Buy"))]))
            let refused = try await IngestCLI.ingest(database, [file])
            #expect(refused.status == 9, "\(refused)")
            #expect(refused.stderr.contains("loading again through the staging table"), "\(refused)")
            #expect(refused.rowErrors(in: [file]) == [
                "\(file):7: column ticker: value \"R2.NS\": duplicate key (R2.NS, 2024-10-08, Trader): also at \(file):4",
            ], "\(refused)")
            #expect(try ScoresTable.snapshot(database) == before)

            let kept = try await IngestCLI.ingest(database, [file, "--on-duplicate", "last", "--json"])
            #expect(kept.status == 0, "\(kept)")
            #expect(try kept.report().updated == 1)
            #expect(try kept.report().unchanged == 4)
            #expect(try database.column("SELECT final_score::text || ' ' || band FROM scores WHERE ticker = 'R2.NS'") == ["80 Strong Buy"])
        }
    }
}
