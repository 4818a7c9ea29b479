import Foundation
import Synchronization
import Testing
import GreyoakPostgres
@testable import GreyoakIngest
import GreyoakTestSupport

/// `greyoak ingest` on a range-partitioned `scores` (issue 22, partition-shape.md): rows of
/// dates no partition holds are loaded into standalone tables, indexed once and attached at
/// the load's commit point; rows of existing partitions take the usual paths; one load commits
/// as one unit. `scores` is partitioned by ``PartitionedScores`` after a base load, so that its
/// `scores_legacy` partition ends with the month of the base's dates.
@Suite("Ingest: a partitioned scores, new months loaded apart and attached")
struct IngestPartitionTests {
    /// `scores` after `files` are loaded in turn into an unpartitioned database: what every
    /// load here must give, row for row.
    static func reference(_ files: [[String]]) async throws -> [[String?]] {
        try await withTestDatabase(holdingSlot: false) { reference in
            try await IngestCLI.upgradeHead(reference)
            for arguments in files {
                let result = try await IngestCLI.ingest(reference, arguments)
                try #require(result.status == 0, "\(result)")
            }
            return try ScoresTable.snapshot(reference)
        }
    }

    /// A score file `name` in `scratch`, by gen-scores.
    static func gen(_ scratch: IngestScratch, _ name: String, tickers: Int, days: Int, start: String, _ extra: [String] = []) throws -> String {
        let path = scratch.file(name)
        try GenScores.run(["--tickers", String(tickers), "--days", String(days), "--start", start, "--out", path] + extra)
        return path
    }

    /// A database at head with `base` loaded, then `scores` partitioned.
    static func partitioned(_ database: TestDatabase, base: String?) async throws -> Connection {
        try await IngestCLI.upgradeHead(database)
        if let base { try #require(try await IngestCLI.ingest(database, [base]).status == 0) }
        let connection = try database.connect()
        try PartitionedScores.convert(connection)
        return connection
    }

    /// The `--json` summary's keys (the timing split included), as a script reads them.
    static func json(_ result: CLIResult) throws -> [String: Any] {
        let line = try #require(result.lines.last(where: { $0.hasPrefix("{") }), "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("a backfill of new months only: a partition per month, attached with its indexes, and the rows a plain table gets")
    func newMonthsOnly() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 100, days: 2, start: "2024-10-07")
        let load = try Self.gen(scratch, "load.csv", tickers: 300, days: 45, start: "2024-11-04")
        let expected = try await Self.reference([[base], [load]])
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            // --no-commit builds the partitions and drops them again.
            let dry = try await IngestCLI.ingest(database, [load, "--writers", "2", "--no-commit", "--json"])
            #expect(dry.status == 0, "\(dry)")
            #expect(try Self.json(dry)["new_partitions"] as? Int == 3)
            #expect(try PartitionedScores.partitions(connection).count == 1)
            #expect(try PartitionedScores.leftovers(connection).isEmpty)
            let result = try await IngestCLI.ingest(database, [load, "--writers", "2", "--json"])
            #expect(result.status == 0, "\(result)")
            let summary = try Self.json(result)
            #expect(summary["inserted"] as? Int == 27_000)
            #expect(summary["new_partitions"] as? Int == 3)
            for key in ["copy_seconds", "index_seconds", "attach_seconds"] { #expect(summary[key] is Double, "\(key): \(result)") }
            #expect(try ScoresTable.snapshot(database) == expected)
            #expect(try PartitionedScores.partitions(connection) == [
                "scores_legacy FOR VALUES FROM (MINVALUE) TO ('2024-11-01 00:00:00')",
                "scores_p2024_11 FOR VALUES FROM ('2024-11-01 00:00:00') TO ('2024-12-01 00:00:00')",
                "scores_p2024_12 FOR VALUES FROM ('2024-12-01 00:00:00') TO ('2025-01-01 00:00:00')",
                "scores_p2025_01 FOR VALUES FROM ('2025-01-01 00:00:00') TO ('2025-02-01 00:00:00')",
            ])
            // Each new partition's five indexes are the parent's children; its bound CHECK is gone.
            #expect(try database.column("""
                SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE c.relkind = 'i' AND c.relname LIKE 'scores\\_p2%'
                """) == ["15"])
            #expect(try database.column("SELECT count(*) FROM pg_constraint WHERE conname = 'greyoak_attach_bound'") == ["0"])
            // Autovacuum, off while they were loaded and indexed, is theirs again: no storage parameter is left.
            #expect(try database.column("""
                SELECT coalesce(string_agg(relname || ' ' || array_to_string(reloptions, ','), '; '), '') FROM pg_class
                WHERE relname LIKE 'scores\\_p2%' AND relkind = 'r' AND reloptions IS NOT NULL
                """) == [""])
            #expect(try PartitionedScores.leftovers(connection).isEmpty)
            // The text summary says the split too.
            let again = try await IngestCLI.ingest(database, [load])
            #expect(again.status == 0 && again.stdout.contains("unchanged"), "\(again)")
        }
    }

    @Test("on the partition-scores recipe's scores: new months are attached, an existing one loads through scores, and verify counts them as data")
    func onTheRecipe() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        // The recipe's scores_legacy ends with January 2025; this load: Jan 30, 31, Feb 3, 4 (weekdays), 200 rows a day.
        let load = try Self.gen(scratch, "load.csv", tickers: 100, days: 4, start: "2025-01-30")
        try await withTestDatabase { database in
            let (migrations, _, _) = try await DBPartitionRecipeTests.prepare(database)
            defer { migrations.remove() }
            try await database.succeed("db", "upgrade", "head", migrations: migrations.path)
            let result = try await database.greyoak("ingest", "--no-progress", "--json", "--writers", "2", load, migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(try Self.json(result)["new_partitions"] as? Int == 1)
            #expect(try database.column("SELECT count(*) FROM scores_p2025_02") == ["400"])
            // Its own rows only: the recipe's January rows are all Trader.
            #expect(try database.column("SELECT count(*) FROM scores_legacy WHERE scoring_date >= '2025-01-30' AND mode = 'Investor'") == ["200"])
            let verify = try await database.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
        }
    }

    @Test("a load of an existing month and a new one commits as one unit", arguments: [1, 2])
    func mixed(writers: Int) async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        // 2024-10-28 is a Monday: the load changes October's rows and adds 2024-11-01.
        let base = try Self.gen(scratch, "base.csv", tickers: 200, days: 3, start: "2024-10-28")
        let load = try Self.gen(scratch, "load.csv", tickers: 200, days: 5, start: "2024-10-28", ["--changed-fraction", "0.1"])
        let expected = try await Self.reference([[base], [load]])
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            let result = try await IngestCLI.ingest(database, [load, "--writers", String(writers), "--json"])
            #expect(result.status == 0, "\(result)")
            let report = try result.report()
            #expect(report.inserted == 800)  // 2024-10-31 (in scores_legacy) and 2024-11-01 (new), 400 rows each
            #expect(try ScoresTable.snapshot(database) == expected)
            #expect(try PartitionedScores.partitions(connection).contains { $0.hasPrefix("scores_p2024_11 ") })
            #expect(try database.column("SELECT count(*) FROM greyoak_load WHERE state = 'committed'") == ["2"])
        }
    }

    @Test("a key twice in a new month is found before anything is attached, and the database is unchanged")
    func duplicateInNewMonth() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 50, days: 1, start: "2024-10-07")
        let records = (0..<100).map { ScoreRecord.valid(ticker: "N\($0).NS", date: "2024-12-02") }
            + [ScoreRecord.valid(ticker: "N7.NS", date: "2024-12-02")]
            + [ScoreRecord.valid(ticker: "OLD.NS", date: "2024-10-08")]
        let load = try scratch.write("dup.csv", ScoreRecord.csv(records))
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            let before = try ScoresTable.snapshot(database), partitions = try PartitionedScores.partitions(connection)
            for writers in ["1", "2"] {
                let result = try await IngestCLI.ingest(database, [load, "--writers", writers])
                #expect(result.status == 9, "\(result)")
                #expect(result.stderr.contains("appears more than once"), "\(result)")
                #expect(result.stderr.contains("N7.NS, 2024-12-02"), "\(result)")
                #expect(try ScoresTable.snapshot(database) == before)
                #expect(try PartitionedScores.partitions(connection) == partitions)
                #expect(try PartitionedScores.leftovers(connection).isEmpty)
            }
            // --on-duplicate last keeps the later row, in the new month as anywhere.
            let last = try await IngestCLI.ingest(database, [load, "--on-duplicate", "last", "--json"])
            #expect(last.status == 0, "\(last)")
            #expect(try last.report().inserted == 101)
            #expect(try database.column("SELECT count(*) FROM scores_p2024_12") == ["100"])
        }
    }

    @Test("rows of a month that come after the input moved past it (sealed, loading) are loaded too, and their repeats found")
    func outOfOrder() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 50, days: 1, start: "2024-10-07")
        let november = (0..<100).map { ScoreRecord.valid(ticker: "N\($0).NS", date: "2024-11-04") }
        let december = (0..<100).map { ScoreRecord.valid(ticker: "D\($0).NS", date: "2024-12-02") }
        let lateNovember = (0..<50).map { ScoreRecord.valid(ticker: "L\($0).NS", date: "2024-11-05") }
        let load = try scratch.write("load.csv", ScoreRecord.csv(november + december + lateNovember))
        let repeated = try scratch.write("repeated.csv", ScoreRecord.csv(november + december + [november[3]]))
        let expected = try await Self.reference([[base], [load]])
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            let refused = try await IngestCLI.ingest(database, [repeated])
            #expect(refused.status == 9, "\(refused)")
            #expect(refused.stderr.contains("N3.NS, 2024-11-04"), "\(refused)")
            #expect(try PartitionedScores.leftovers(connection).isEmpty)
            let result = try await IngestCLI.ingest(database, [load, "--json"])
            #expect(result.status == 0, "\(result)")
            #expect(try ScoresTable.snapshot(database) == expected)
            #expect(try database.column("SELECT count(*) FROM scores_p2024_11") == ["150"])
        }
    }

    @Test("a default partition holding rows of a new month blocks the load before it loads, and says what to do")
    func defaultPartitionBlocks() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 50, days: 1, start: "2024-10-07")
        let load = try Self.gen(scratch, "load.csv", tickers: 100, days: 3, start: "2025-02-03")
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            try PartitionedScores.addDefault(connection)
            try connection.execute("INSERT INTO scores (ticker, scoring_date, mode) VALUES ('STRAY.NS', '2025-02-10', 'Trader')")
            let before = try ScoresTable.snapshot(database)
            let blocked = try await IngestCLI.ingest(database, [load])
            #expect(blocked.status != 0, "\(blocked)")
            #expect(blocked.stderr.contains("the default partition scores_default holds 1 row(s)"), "\(blocked)")
            #expect(blocked.stderr.contains("scores_p2025_02"), "\(blocked)")
            #expect(blocked.stderr.contains("hint: move them into a partition of their own"), "\(blocked)")
            #expect(try ScoresTable.snapshot(database) == before)
            #expect(try PartitionedScores.leftovers(connection).isEmpty)
            // Without the stray row the load attaches beside the default partition.
            try connection.execute("DELETE FROM scores WHERE ticker = 'STRAY.NS'")
            let result = try await IngestCLI.ingest(database, [load, "--json"])
            #expect(result.status == 0, "\(result)")
            #expect(try result.report().inserted == 600)
            #expect(try database.column("SELECT count(*) FROM scores_p2025_02") == ["600"])
            #expect(try database.column("SELECT count(*) FROM scores_default") == ["0"])
        }
    }

    /// On a cluster of the test's own: CREATE EXTENSION pg_partman needs a superuser.
    @Test("pg_partman 4.7 manages scores monthly: a load makes the partitions it names, beside its own")
    func partmanMonthly() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 50, days: 1, start: "2024-10-07")
        let load = try Self.gen(scratch, "load.csv", tickers: 100, days: 2, start: "2031-03-03")
        let cluster = try await PrivateCluster()
        defer { cluster.remove() }
        try await cluster.start()
        let database = TestDatabase(name: "partman", url: try await cluster.createDatabase("partman"), adminURL: cluster.url())
        let connection = try await Self.partitioned(database, base: base)
        defer { connection.close() }
        try connection.execute("CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman")
        // 4.7's signature: (parent, control, type, interval, constraint_cols, premake, automatic_maintenance,
        // start_partition, ...); it makes a default partition too.
        try connection.execute("""
            SELECT partman.create_parent('public.scores', 'scoring_date', 'native', 'monthly',
                                         p_premake := 1, p_start_partition := '2024-11-01')
            """)
        // pg_partman's interval wins over --partition-interval.
        let result = try await IngestCLI.ingest(database, [load, "--partition-interval", "year", "--json"])
        #expect(result.status == 0, "\(result)")
        #expect(try result.report().inserted == 400)
        #expect(try PartitionedScores.partitions(connection).contains(
            "scores_p2031_03 FOR VALUES FROM ('2031-03-01 00:00:00') TO ('2031-04-01 00:00:00')"))
        #expect(try database.column("SELECT count(*) FROM scores_p2031_03") == ["400"])
        #expect(try PartitionedScores.leftovers(connection).isEmpty)

        // A role that may not read part_config (no USAGE on pg_partman's schema) goes by the
        // newest partition, a month, without an error that would abort its transaction.
        try connection.execute("CREATE ROLE layout_reader LOGIN")
        var reader = try #require(URLComponents(string: database.url))
        reader.user = "layout_reader"
        let readerConnection = try database.connect(try #require(reader.string))
        defer { readerConnection.close() }
        try readerConnection.execute("BEGIN")
        let layout = try #require(try PartitionLayout.discover(readerConnection, requested: .year, logger: quietLogger))
        #expect(layout.interval == .month)
        #expect(layout.intervalSource.hasPrefix("the newest partition"), "\(layout.intervalSource)")
        #expect(try readerConnection.execute("SELECT 1")[0, 0] == "1")
        try readerConnection.execute("ROLLBACK")
    }

    @Test("with no partition to go by, --partition-interval year makes a yearly partition")
    func yearly() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 50, days: 1, start: "2024-10-07")
        let load = try Self.gen(scratch, "load.csv", tickers: 50, days: 2, start: "2026-03-03")
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            let result = try await IngestCLI.ingest(database, [load, "--partition-interval", "year"])
            #expect(result.status == 0, "\(result)")
            #expect(try PartitionedScores.partitions(connection).contains(
                "scores_p2026 FOR VALUES FROM ('2026-01-01 00:00:00') TO ('2027-01-01 00:00:00')"))
        }
    }

    @Test("the attach waits for its lock as a migration does: a timed-out attempt is retried, and the load commits once the blocker ends")
    func attachRetriesAfterALockTimeout() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 50, days: 1, start: "2024-10-07")
        let load = try Self.gen(scratch, "load.csv", tickers: 50, days: 2, start: "2025-02-03")
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            // SHARE UPDATE EXCLUSIVE on scores: the load's COPY and reads pass it, its ATTACH waits.
            let blocker = try await Blocker.start(
                database, sql: "BEGIN; LOCK TABLE scores IN SHARE UPDATE EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT",
                held: "l.relation = 'scores'::regclass AND l.granted AND l.mode = 'ShareUpdateExclusiveLock'")
            async let run = IngestCLI.ingest(database, [load])
            // The blocker ends once the ATTACH has been seen waiting and then not (timed out,
            // rolled back to its start, pausing before its retry).
            var sawWait = false, timedOut = false
            let deadline = Date().addingTimeInterval(90)
            while !timedOut && Date() < deadline {
                let waiting = try database.column("""
                    SELECT count(*) FROM pg_locks WHERE relation = 'scores'::regclass AND NOT granted
                    """) != ["0"]
                if waiting { sawWait = true } else if sawWait { timedOut = true }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await blocker.end(database)
            let result = try await run
            #expect(timedOut, "the attach was never seen waiting and giving up: \(result)")
            #expect(result.status == 0, "\(result)")
            #expect(result.stderr.contains("retry 1 of 10"), "\(result)")
            #expect(try database.column("SELECT count(*) FROM scores_p2025_02") == ["200"])
        }
    }

    @Test("readers of scores are never blocked while a backfill loads, indexes and attaches new months")
    func readersNeverBlocked() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 100, days: 2, start: "2024-10-07")
        let load = try Self.gen(scratch, "load.csv", tickers: 500, days: 40, start: "2024-11-04")
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            // The safe-migrations check: each read has its own generous lock_timeout, so a
            // reader stuck behind the load would fail with 55P03 rather than wait.
            let readers = DBLockWaitTests.Readers()
            let reading = readers.run(database, lockTimeout: "5s")
            let result = try await IngestCLI.ingest(database, [load, "--writers", "2"])
            readers.stopped.withLock { $0 = true }
            try await reading.value
            #expect(result.status == 0, "\(result)")
            let counts = readers.counts.withLock { $0 }
            #expect(counts.timedOut == 0, "a reader waited past its bound")
            #expect(counts.other.isEmpty, "\(counts.other)")
            #expect(counts.finished > 0)
        }
    }

    @Test("a load role without CREATE or scores' ownership falls back, says why once, and names what the new month needs")
    func leastPrivilegeFallsBack() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try Self.gen(scratch, "base.csv", tickers: 50, days: 1, start: "2024-10-07")
        let old = try Self.gen(scratch, "old.csv", tickers: 50, days: 1, start: "2024-10-08")
        let load = try Self.gen(scratch, "load.csv", tickers: 50, days: 1, start: "2025-03-03")
        try await withTestDatabase { database in
            let connection = try await Self.partitioned(database, base: base)
            defer { connection.close() }
            try await IngestLeastPrivilegeTests.withLoader(database) { url, owner, role in
                // A month that has a partition loads as before.
                let inLegacy = try await IngestCLI.ingest(database, [old], databaseURL: url)
                #expect(inLegacy.status == 0, "\(inLegacy)")
                #expect(inLegacy.stderr.components(separatedBy: "cannot make new partitions").count == 2, "said once: \(inLegacy)")
                let refused = try await IngestCLI.ingest(database, [load], databaseURL: url)
                #expect(refused.status != 0, "\(refused)")
                #expect(refused.stderr.contains("the new month needs a partition"), "\(refused)")
                #expect(refused.stderr.contains("membership in role"), "\(refused)")
                #expect(try database.column("SELECT count(*) FROM scores WHERE scoring_date >= '2025-01-01'") == ["0"])
            }
        }
    }
}
