import Foundation
import Testing
import GreyoakTestSupport

/// The direct path: a run whose first rows' dates `scores` does not hold copies straight
/// into `scores`; if a key turns out to exist (or to repeat), it starts again in compare
/// mode (through the staging table), and the result must be exactly what the staging path
/// gives.
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
            // run goes again comparing with scores and reports it unchanged.
            let mixed = try file(scratch, date: "2025-01-07", tail: [existing])
            let again = try await IngestCLI.ingest(database, [mixed, "--json"])
            #expect(again.status == 0, "\(again)")
            #expect(again.stderr.contains("loading again, comparing with scores"), "\(again)")
            let report = try again.report()
            #expect(report.inserted == 2100)
            #expect(report.unchanged == 1)
            #expect(report.rowsRead == 2101)
            #expect(try ScoresTable.count(database) == 1 + 2100 + 2100)
        }
    }

    /// `datconnlimit` holds for roles without superuser, such as the one the tests run as:
    /// room for the coordinator and one writer, however many writers are asked for. The
    /// fallback to staging must keep its writer's connection, as it may not get another.
    @Test("a database that allows two connections: one writer loads, by the direct path and the fallback")
    func fewerWritersUnderAConnectionLimit() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let existing = ScoreRecord.valid(ticker: "RELIANCE.NS", date: "2024-10-08")
            #expect(try await IngestCLI.ingest(database, [try scratch.write("existing.csv", ScoreRecord.csv([existing]))]).status == 0)

            let admin = try database.connect(database.adminURL)
            try #require(admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0, 0] == "f",
                         "the connection limit test needs a test role without superuser")
            try admin.execute("ALTER DATABASE \(database.name) CONNECTION LIMIT 2")
            // Until the sessions of the runs above have ended, they count against the limit.
            for _ in 0..<100 {
                if try admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", [database.name])[0, 0] == "0" { break }
                try await Task.sleep(for: .milliseconds(50))
            }

            let mixed = try file(scratch, date: "2025-01-07", tail: [existing])
            let result = try await IngestCLI.ingest(database, [mixed, "--json", "--writers", "4"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stderr.contains("only 1 of 4 writer connections opened"), "\(result)")
            #expect(result.stderr.contains("loading again, comparing with scores"), "\(result)")
            let report = try result.report()
            #expect(report.writers == 1)
            #expect(report.inserted == 2100)
            #expect(report.unchanged == 1)

            // Room for the coordinator alone: no writer, so nothing loads, and the hint
            // names the full server rather than a wrong address.
            try admin.execute("ALTER DATABASE \(database.name) CONNECTION LIMIT 1")
            let next = try file(scratch, date: "2025-01-08", tail: [])
            let refused = try await IngestCLI.ingest(database, [next, "--writers", "2"])
            #expect(refused.status == 7, "\(refused)")
            #expect(refused.stderr.contains("hint: the server has no connection free"), "\(refused)")
            try admin.execute("ALTER DATABASE \(database.name) CONNECTION LIMIT -1")
            #expect(try ScoresTable.count(database) == 1 + 2100)
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
