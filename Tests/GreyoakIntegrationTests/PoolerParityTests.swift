import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// The same commands, one database through a real PgBouncer in transaction mode and one
/// direct, give the same results: loads, re-ingests, `--each-file` and `db verify`.
@Suite("Behind a transaction pooler: the same results as direct")
struct PoolerParityTests {
    /// What one run of the sequence left: every command's outcome, and the tables.
    struct Outcome: Equatable {
        var reports: [[IngestReport]] = []
        var verify: [String] = []
        var scores: [[String?]] = []
        var loads: [[String?]] = []
    }

    @Test func loadsReingestsEachFileAndVerifyMatchDirect() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let first = try PoolerTests.scoreFile(scratch, "first.csv")
        let changed = try PoolerTests.scoreFile(scratch, "changed.csv", changed: 0.1)
        try GenScores.run(["--tickers", "50", "--days", "2", "--start", "2024-10-09", "--per-day", scratch.file("days")])
        let days = try FileManager.default.contentsOfDirectory(atPath: scratch.file("days")).sorted().map { scratch.file("days/" + $0) }
        let pooler = try await Pooler(poolSize: 5)
        defer { pooler.stop() }
        let pooled = try await withTestDatabase { database in
            try await Self.run(database, url: pooler.url(database), files: (first, changed, days))
        }
        let direct = try await withTestDatabase { database in
            try await Self.run(database, url: database.url, files: (first, changed, days))
        }
        #expect(pooled.reports == direct.reports)
        #expect(pooled.verify == direct.verify)
        #expect(pooled.scores == direct.scores)
        #expect(pooled.loads == direct.loads)
        #expect(pooled.reports.map { $0.map(\.outcome) } == Array(repeating: ["committed"], count: 5))
    }

    /// Upgrade, load, re-ingest, load changed rows, `--each-file`, verify: through `url`.
    static func run(_ database: TestDatabase, url: String, files: (String, String, [String])) async throws -> Outcome {
        var outcome = Outcome()
        let upgrade = try await CLI.run(["db", "upgrade", "head"], databaseURL: url, migrations: IngestRepo.migrations)
        try #require(upgrade.status == 0, "\(upgrade)")
        for arguments in [[files.0, "--writers", "2"], [files.0], [files.1, "--writers", "1"], [files.1, "--writers", "2"],
                          ["--each-file"] + files.2] {
            let result = try await IngestCLI.ingest(database, arguments + ["--json"], databaseURL: url)
            #expect(result.status == 0, "\(result)")
            outcome.reports.append(try result.lines.filter { $0.hasPrefix("{") }.map {
                try JSONDecoder().decode(IngestReport.self, from: Data($0.utf8))
            })
        }
        let verify = try await CLI.run(["db", "verify"], databaseURL: url, migrations: IngestRepo.migrations)
        outcome.verify = ["exit \(verify.status)"] + verify.lines.map {
            $0.replacingOccurrences(of: url, with: "URL")
        }
        outcome.scores = try ScoresTable.snapshot(database)
        outcome.loads = try database.query("""
            SELECT state, commit_method, writers::text, rows_read::text, inserted::text, updated::text, unchanged::text
            FROM greyoak_load ORDER BY id
            """)
        return outcome
    }
}
