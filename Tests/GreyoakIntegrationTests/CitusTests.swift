import Foundation
import Testing
import GreyoakTestSupport

/// The Citus coordinator the Citus tests run against: `GREYOAK_TEST_CITUS_URL`, a database
/// on a coordinator with the `citus` extension and at least one worker, whose role may
/// create and drop tables there. The tests drop every table of schema `public` in it (the
/// extension's own objects stay): give them a database of their own.
///
/// Citus is not a Debian package, so CI has none and these tests are skipped there, saying
/// why; run them by hand against a local cluster (README: "Far more data").
enum CitusCluster {
    static let variable = "GREYOAK_TEST_CITUS_URL"
    static let url: String? = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }

    /// The test's view of the coordinator's database.
    static func database() throws -> TestDatabase {
        let url = try #require(url)
        let name = try #require(URLComponents(string: url)?.path.dropFirst()).description
        return TestDatabase(name: name, url: url, adminURL: url)
    }

    /// Drops every table and type of schema public that no extension owns: what greyoak and
    /// earlier runs made. DROP of a distributed table drops its shards on the workers too.
    static func reset(_ database: TestDatabase) throws {
        let connection = try database.connect()
        for table in try connection.execute("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'").column {
            try connection.execute("DROP TABLE IF EXISTS \(table) CASCADE")
        }
        try connection.execute("DROP TYPE IF EXISTS band_enum CASCADE")
    }

    /// The repository's migrations plus the one that distributes `scores` by ticker, the
    /// README's recipe, in a scratch folder.
    static func migrations(_ scratch: IngestScratch) throws -> String {
        let folder = scratch.file("migrations")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: IngestRepo.migrations) where name.hasSuffix(".sql") {
            try FileManager.default.copyItem(atPath: IngestRepo.migrations + "/" + name, toPath: folder + "/" + name)
        }
        let head = try #require(try FileManager.default.contentsOfDirectory(atPath: IngestRepo.migrations)
            .filter { $0.hasSuffix(".sql") }.sorted().last.map { String($0.prefix { $0 != "_" }) })
        try """
            -- Distribute scores by ticker
            --
            -- Revision ID: c1705e0a9d11
            -- Revises: \(head)
            -- Create Date: 2026-11-27 18:00:00.000000

            -- migrate:upgrade
            SELECT create_distributed_table('scores', 'ticker');

            -- migrate:downgrade
            SELECT undistribute_table('scores');

            """.write(toFile: folder + "/c1705e0a9d11_distribute_scores.sql", atomically: true, encoding: .utf8)
        return folder
    }
}

@Suite("greyoak on a Citus coordinator", .serialized,
       .enabled(if: CitusCluster.url != nil, "GREYOAK_TEST_CITUS_URL is not set: no Citus cluster to test against (Citus is not a Debian package; see the README's \"Far more data\")"))
struct CitusTests {
    /// Runs one `greyoak ingest --json` on both databases and checks that it did the same on
    /// each: the same exit status, the same counts, the same table afterwards. `migrations`
    /// is Citus's folder; the plain database has the repository's.
    private func same(
        _ arguments: [String], citus: TestDatabase, plain: TestDatabase, migrations: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (IngestReport?, CLIResult) {
        let command = ["ingest", "--no-progress", "--json"] + arguments
        let onCitus = try await CLI.run(command, databaseURL: citus.url, migrations: migrations, sourceLocation: sourceLocation)
        let onPlain = try await CLI.run(command, databaseURL: plain.url, migrations: IngestRepo.migrations, sourceLocation: sourceLocation)
        #expect(onCitus.status == onPlain.status, "on Citus:\n\(onCitus)\non PostgreSQL:\n\(onPlain)", sourceLocation: sourceLocation)
        var report: IngestReport?
        if onPlain.lines.contains(where: { $0.hasPrefix("{") }) {
            var citusReport = try onCitus.report(sourceLocation: sourceLocation)
            let plainReport = try onPlain.report(sourceLocation: sourceLocation)
            citusReport.writers = plainReport.writers  // one writer on Citus by design
            #expect(citusReport == plainReport, "on Citus:\n\(onCitus)\non PostgreSQL:\n\(onPlain)", sourceLocation: sourceLocation)
            report = plainReport
        }
        #expect(try ScoresTable.snapshot(citus) == ScoresTable.snapshot(plain),
                "scores differs after greyoak \(command.joined(separator: " "))", sourceLocation: sourceLocation)
        return (report, onCitus)
    }

    @Test("every load path gives the counts and the table that plain PostgreSQL gives; verify is clean")
    func everyLoadPath() async throws {
        let citus = try CitusCluster.database()
        try CitusCluster.reset(citus)
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let migrations = try CitusCluster.migrations(scratch)
        try await withTestDatabase { plain in
            // The same schema on both, distributed on Citus by the extra migration.
            for (database, folder) in [(citus, migrations), (plain, IngestRepo.migrations)] {
                let upgrade = try await CLI.run(["db", "upgrade", "head"], databaseURL: database.url, migrations: folder)
                try #require(upgrade.status == 0, "\(upgrade)")
            }
            #expect(try citus.column("SELECT partmethod::text FROM pg_dist_partition WHERE logicalrelid = 'scores'::regclass") == ["h"])
            // The shared staging table is distributed beside scores: loads stage in its shards.
            let colocation = "SELECT count(DISTINCT colocationid) || ' ' || count(*) FROM pg_dist_partition WHERE logicalrelid IN ('scores'::regclass, 'greyoak_stage'::regclass)"
            #expect(try citus.column(colocation) == ["1 2"])
            let verify = try await CLI.run(["db", "verify"], databaseURL: citus.url, migrations: migrations)
            #expect(verify.status == 0, "verify on Citus:\n\(verify)")

            let base = ["--tickers", "120", "--days", "3", "--seed", "31"]
            let basePath = try GeneratedCSV(scratch, "base.csv", base).path
            let changedPath = scratch.file("changed.csv")
            let changedRows = try GenScores.run(base + ["--changed-fraction", "0.1", "--change-seed", "5", "--out", changedPath])
            let mixedPath = scratch.file("mixed.csv")
            try GenScores.run(["--tickers", "150", "--days", "4", "--seed", "31", "--changed-fraction", "0.05", "--change-seed", "9",
                               "--out", mixedPath])

            // A backfill of new dates: the direct COPY.
            let backfill = try await same([basePath], citus: citus, plain: plain, migrations: migrations).0
            #expect(backfill?.inserted == 720 && backfill?.outcome == "committed")
            // The same rows again: nothing written.
            let unchanged = try await same([basePath], citus: citus, plain: plain, migrations: migrations).0
            #expect(unchanged?.unchanged == 720 && unchanged?.inserted == 0 && unchanged?.updated == 0)
            // In compare mode: the rows come back from the shards and none goes out again; from
            // standard input too (read again from its kept copy if need be).
            let compared = try await CLI.run(["ingest", "--no-progress", "--json", "-", "--format", "csv"], databaseURL: citus.url,
                                             migrations: migrations, environment: ["GREYOAK_LOG_LEVEL": "debug"], stdin: basePath)
            #expect(compared.status == 0 && compared.stderr.contains("compared with 720 rows of scores"), "\(compared)")
            #expect(try compared.report().unchanged == 720)
            // A dry run of the changes, then --no-commit: counted, rolled back.
            _ = try await same([changedPath, "--dry-run"], citus: citus, plain: plain, migrations: migrations)
            let noCommit = try await same([changedPath, "--no-commit"], citus: citus, plain: plain, migrations: migrations).0
            #expect(noCommit?.updated == changedRows)
            // The changes for real.
            let changed = try await same([changedPath], citus: citus, plain: plain, migrations: migrations).0
            #expect(changed?.updated == changedRows && changed?.unchanged == 720 - changedRows)
            // New tickers, a new date, changed and unchanged rows in one file.
            let mixed = try await same([mixedPath], citus: citus, plain: plain, migrations: migrations).0
            #expect((mixed?.inserted ?? 0) > 0 && (mixed?.updated ?? 0) > 0 && (mixed?.unchanged ?? 0) > 0, "\(String(describing: mixed))")

            // A key twice in one file, staged in greyoak_stage's shards: refused on both with the
            // same error; loaded with the last occurrence under --on-duplicate last.
            let pairs = (0..<4).map { ScoreRecord.valid(ticker: "DUP\($0).NS") }
            let twice = try scratch.write("twice.csv", ScoreRecord.csv(pairs + [pairs[1].with(RuleCase.scored("80", "Strong Buy"))]))
            let refusedTwice = try await same([twice], citus: citus, plain: plain, migrations: migrations).1
            #expect(refusedTwice.status == 9 && refusedTwice.stderr.contains("duplicate key (DUP1.NS"), "\(refusedTwice)")
            let keptLast = try await same([twice, "--on-duplicate", "last"], citus: citus, plain: plain, migrations: migrations).0
            #expect(keptLast?.inserted == 4, "\(String(describing: keptLast))")
            #expect(try citus.column("SELECT count(*) FROM greyoak_stage") == ["0"])

            // One bad row: refused on both, nothing loaded; then loaded without it under --max-errors.
            var spoiled = try GeneratedCSV(scratch, "spoiled.csv", ["--tickers", "40", "--days", "2", "--seed", "77"])
            try spoiled.spoil(near: 10, column: "band", value: "Sideways")
            let refused = try await same([spoiled.path], citus: citus, plain: plain, migrations: migrations).1
            #expect(refused.status == 9, "\(refused)")
            let tolerated = try await same([spoiled.path, "--max-errors", "1", "--rejects", scratch.file("rejects.csv")],
                                           citus: citus, plain: plain, migrations: migrations).0
            #expect(tolerated.map { $0.rejected == 1 && $0.inserted + $0.updated + $0.unchanged == 159 } == true, "\(String(describing: tolerated))")

            // A resumable backfill, file by file, then again: every file skipped.
            let days = scratch.file("days")
            try GenScores.run(["--tickers", "60", "--days", "3", "--seed", "41", "--per-day", days])
            _ = try await same(["--each-file", days], citus: citus, plain: plain, migrations: migrations)
            let again = try await CLI.run(["ingest", "--no-progress", "--each-file", days], databaseURL: citus.url, migrations: migrations)
            #expect(again.status == 0 && again.stderr.components(separatedBy: "skipped, committed already").count - 1
                        + again.stdout.components(separatedBy: "skipped, committed already").count - 1 == 3, "\(again)")

            let after = try await CLI.run(["db", "verify"], databaseURL: citus.url, migrations: migrations)
            #expect(after.status == 0, "verify on Citus after the loads:\n\(after)")

            // A downgrade past the distributing migration leaves greyoak_stage a plain table, as
            // two-phase loads need; the upgrade distributes both again.
            let down = try await CLI.run(["db", "downgrade", "-1"], databaseURL: citus.url, migrations: migrations)
            #expect(down.status == 0, "\(down)")
            #expect(try citus.column(colocation) == ["0 0"])
            let up = try await CLI.run(["db", "upgrade", "head"], databaseURL: citus.url, migrations: migrations)
            #expect(up.status == 0, "\(up)")
            #expect(try citus.column(colocation) == ["1 2"])

            // Autogenerate finds nothing to write: Citus's own objects are the extension's.
            let files = try FileManager.default.contentsOfDirectory(atPath: migrations)
            let generate = try await CLI.run(["db", "revision", "--autogenerate", "-m", "sync"], databaseURL: citus.url, migrations: migrations)
            #expect(generate.status == 0 && (generate.stdout + generate.stderr).contains("No changes:"), "\(generate)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: migrations) == files)

            // Plan describes a pending change to the distributed table without making it.
            try """
                -- Add confidence
                --
                -- Revision ID: c1705e0a9d12
                -- Revises: c1705e0a9d11
                -- Create Date: 2026-11-27 18:30:00.000000

                -- migrate:upgrade
                ALTER TABLE scores ADD COLUMN confidence FLOAT8;

                -- migrate:downgrade
                ALTER TABLE scores DROP COLUMN confidence;

                """.write(toFile: migrations + "/c1705e0a9d12_add_confidence.sql", atomically: true, encoding: .utf8)
            let plan = try await CLI.run(["db", "plan"], databaseURL: citus.url, migrations: migrations)
            #expect(plan.status == 0 && plan.stdout.contains("AccessExclusiveLock on scores"), "\(plan)")
            #expect(try citus.columns(of: "scores").contains("confidence") == false)
        }
    }
}
