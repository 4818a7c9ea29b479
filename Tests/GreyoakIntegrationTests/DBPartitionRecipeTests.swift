import Foundation
import Testing
import GreyoakPostgres
import GreyoakSchema
import GreyoakTestSupport

/// `greyoak db revision --recipe partition-scores`: `scores` becomes partitioned by range of
/// `scoring_date` on a live database, and back; `verify` and `--autogenerate` treat the
/// partitions loads make as data.
@Suite struct DBPartitionRecipeTests {
    static let initial = MigrationsDirectory.initialRevision
    /// 1000 rows in January 2025: the bound is 2025-02-01.
    static let januaryRows = """
        INSERT INTO scores (ticker, scoring_date, mode, final_score)
        SELECT 'T' || g, '2025-01-01'::timestamp + (g % 31) * interval '1 day', 'Trader', g FROM generate_series(1, 1000) g
        """

    /// Writes the recipe into `migrations` (a copy of the repository's) and returns its two
    /// revisions, after checking how they are chained.
    static func writeRecipe(_ db: TestDatabase, _ migrations: MigrationsDirectory, on parent: String = initial) async throws -> (String, String) {
        let written = try await db.succeed("db", "revision", "-m", "Partition scores", "--recipe", "partition-scores",
                                           "--rev-id", "partscores2", migrations: migrations.path)
        let paths = written.lines.compactMap { line in
            line.hasPrefix("Generating ") ? String(line.dropFirst("Generating ".count).prefix { $0 != " " }) : nil
        }
        try #require(paths.count == 2, "\(written)")
        let first = try String(contentsOfFile: paths[0], encoding: .utf8)
        let second = try String(contentsOfFile: paths[1], encoding: .utf8)
        #expect(first.contains("-- Revises: \(parent)\n-- Create Date: ") && first.contains("-- Transactional: no\n"))
        let firstID = try #require(first.split(separator: "\n").first { $0.hasPrefix("-- Revision ID: ") }?.dropFirst(16))
        #expect(second.contains("-- Revision ID: partscores2\n-- Revises: \(firstID)\n"))
        #expect(!second.contains("Transactional"))
        return (String(firstID), "partscores2")
    }

    /// A copy of the repository's migrations with the recipe on top, the database at the
    /// initial revision with January's rows.
    static func prepare(_ db: TestDatabase) async throws -> (migrations: MigrationsDirectory, first: String, second: String) {
        let migrations = try MigrationsDirectory.copyOfRepository()
        let (first, second) = try await writeRecipe(db, migrations)
        try await db.succeed("db", "upgrade", initial, migrations: migrations.path)
        try db.query(januaryRows)
        return (migrations, first, second)
    }

    /// Waits until a session runs a statement containing `text` and waits for a lock; returns
    /// the lock mode it waits for.
    static func waitForLockWait(_ db: TestDatabase, statementContaining text: String) async throws -> String {
        for _ in 0..<400 {
            if let mode = try db.column("""
                SELECT l.mode FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
                WHERE a.query LIKE '%' || $1 || '%' AND a.pid <> pg_backend_pid() AND l.relation IS NOT NULL
                """, [text]).first {
                return mode
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw GreyoakError(.failure, "no session waited for a lock in a statement with \(text)")
    }

    @Test func upgradeKeepsEveryRowAndTheValidateLetsReadersAndWritersGoOn() async throws {
        try await withTestDatabase { db in
            let (migrations, first, second) = try await Self.prepare(db)
            defer { migrations.remove() }

            // The plan names the recipe's locks before anything runs: the CHECK's instant
            // ACCESS EXCLUSIVE, the VALIDATE's scan under SHARE UPDATE EXCLUSIVE, and the swap's
            // ACCESS EXCLUSIVE on the old table (its RENAME and its ATTACH as scores_legacy).
            let plan = try await db.succeed("db", "plan", migrations: migrations.path)
            let lines = plan.lines
            #expect(lines.contains { $0.hasPrefix("upgrade \(Self.initial) -> \(first), Partition scores (1 of 2") && $0.hasSuffix("not replayed)") }, "\(plan)")
            #expect(lines.contains { $0.contains(": AccessExclusiveLock on scores (") }, "\(plan)")
            #expect(lines.contains { $0.contains(": ShareUpdateExclusiveLock on scores (") && $0.hasSuffix("scans scores") }, "\(plan)")
            #expect(lines.contains("upgrade \(first) -> \(second), Partition scores (2 of 2: attach them under a partitioned scores)"), "\(plan)")
            #expect(lines.contains("  round trip: ok"), "\(plan)")
            #expect(!lines.contains { $0.contains("rewrites") || $0.contains("builds") }, "\(plan)")

            // The CHECK's ACCESS EXCLUSIVE waits behind a report; a SHARE UPDATE EXCLUSIVE
            // holder (what VACUUM takes) queues behind it, so that once the report ends and
            // the CHECK commits, the VALIDATE waits behind that holder: its lock, requested
            // or held, is then the one readers and writers meet.
            let report = try await Blocker.start(db, sql: "BEGIN; SELECT count(*) FROM scores; SELECT pg_sleep(60); COMMIT",
                                                 held: "l.relation = 'scores'::regclass AND l.granted")
            let upgrade = Task { try await db.greyoak("db", "upgrade", "head", "--ddl-lock-timeout", "60s", migrations: migrations.path, timeout: 120) }
            #expect(try await Self.waitForLockWait(db, statementContaining: "DO $recipe$") == "AccessExclusiveLock")
            let holder = try await Blocker.start(db, name: "maintenance", sql: "BEGIN; LOCK TABLE scores IN SHARE UPDATE EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT",
                                                 held: "l.relation = 'scores'::regclass AND NOT l.granted")
            try await report.end(db)
            #expect(try await Self.waitForLockWait(db, statementContaining: "VALIDATE CONSTRAINT scores_legacy_bound") == "ShareUpdateExclusiveLock")

            // A reader and a writer, each bounded by a lock timeout: neither waits for it.
            let session = try db.connect()
            try session.execute("SET lock_timeout = '2s'")
            #expect(try session.execute("SELECT count(*) FROM scores")[0, 0] == "1000")
            try session.execute("INSERT INTO scores (ticker, scoring_date, mode) VALUES ('NEW', '2025-01-20', 'Trader')")
            session.close()
            try await holder.end(db)
            let result = try await upgrade.value
            #expect(result.status == 0, "\(result)")

            #expect(try db.versionRows() == [second])
            #expect(try db.column("SELECT count(*) FROM scores") == ["1001"])
            #expect(try db.column("SELECT count(*) FROM scores WHERE tableoid = 'scores_legacy'::regclass") == ["1001"])
            #expect(try db.column("SELECT relkind::text FROM pg_class WHERE oid = 'scores'::regclass") == ["p"])
            #expect(try db.column("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = 'scores_legacy'::regclass")
                    == ["FOR VALUES FROM (MINVALUE) TO ('2025-02-01 00:00:00')"])
            // The parent's five indexes are valid, and the old table's are attached to them.
            #expect(try db.query("""
                SELECT i.indexrelid::regclass::text, i.indisvalid::text, (SELECT c.inhrelid::regclass::text FROM pg_inherits c WHERE c.inhparent = i.indexrelid)
                FROM pg_index i WHERE i.indrelid = 'scores'::regclass ORDER BY 1
                """) == [
                    ["idx_scores_band", "true", "scores_legacy_band_idx"], ["idx_scores_mode", "true", "scores_legacy_mode_idx"],
                    ["idx_scores_scoring_date", "true", "scores_legacy_scoring_date_idx"], ["idx_scores_ticker", "true", "scores_legacy_ticker_idx"],
                    ["scores_pkey", "true", "scores_legacy_pkey"],
                ])
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
        }
    }

    @Test func partitionsMadeByLoadsAreDataAndComeBackOnDowngrade() async throws {
        try await withTestDatabase { db in
            let (migrations, _, _) = try await Self.prepare(db)
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            // What a load makes: a month's partition, with rows, and a default partition.
            try db.query("CREATE TABLE scores_p2030_01 PARTITION OF scores FOR VALUES FROM ('2030-01-01') TO ('2030-02-01')")
            try db.query("CREATE TABLE scores_default PARTITION OF scores DEFAULT")
            try db.query("INSERT INTO scores (ticker, scoring_date, mode) SELECT 'P' || g, '2030-01-02', 'Trader' FROM generate_series(1, 50) g")
            try db.query("INSERT INTO scores (ticker, scoring_date, mode) VALUES ('D', '2031-06-01', 'Trader')")

            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
            let generated = try await db.greyoak("db", "revision", "--autogenerate", "-m", "nothing", migrations: migrations.path)
            #expect(generated.status == 0, "\(generated)")
            #expect(generated.stdout.hasPrefix("No changes: the live database matches"), "\(generated)")

            // An index made by hand on one partition is still drift, and named.
            try db.query("CREATE INDEX scores_p2030_01_final_idx ON scores_p2030_01 (final_score)")
            let drifted = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(drifted.status == 8, "\(drifted)")
            #expect(drifted.lines.filter { $0.hasPrefix("problem: ") } == [
                "problem: index scores_p2030_01_final_idx is not made by any migration (found CREATE INDEX scores_p2030_01_final_idx ON scores_p2030_01 USING btree (final_score))",
            ])
            try db.query("DROP INDEX scores_p2030_01_final_idx")

            // A pending ATTACH: the plan names the default partition it locks and reads.
            try migrations.write("a0000000001", parents: ["partscores2"], message: "January 2031", upgrade: """
                CREATE TABLE scores_p2031_01 (LIKE scores INCLUDING DEFAULTS);
                ALTER TABLE scores ATTACH PARTITION scores_p2031_01 FOR VALUES FROM ('2031-01-01') TO ('2031-02-01');
                """, downgrade: "DROP TABLE scores_p2031_01;")
            let plan = try await db.succeed("db", "plan", migrations: migrations.path)
            #expect(plan.lines.contains { $0.hasPrefix("  line 9: AccessExclusiveLock on scores_default (")
                && $0.contains("ShareUpdateExclusiveLock on scores (") && $0.hasSuffix("scans scores_default") }, "\(plan)")
            try FileManager.default.removeItem(atPath: migrations.path + "/a0000000001_january_2031.sql")

            // Downgrade: one plain table again, every row in it, a schema the old head verifies.
            try await db.succeed("db", "downgrade", Self.initial, migrations: migrations.path)
            #expect(try db.versionRows() == [Self.initial])
            #expect(try db.column("SELECT relkind::text FROM pg_class WHERE oid = 'scores'::regclass") == ["r"])
            #expect(try db.column("SELECT count(*) FROM scores") == ["1051"])
            #expect(try db.column("SELECT count(*) FROM pg_class WHERE relname LIKE 'scores\\_%' AND relkind IN ('r', 'p')") == ["0"])
            let old = try await db.greyoak("db", "verify", migrations: MigrationsDirectory.repository())
            #expect(old.status == 0, "\(old)")
        }
    }

    /// The new parent takes the old table's grants, column grants included, and comment (a
    /// loader's INSERT, a reader's SELECT, a clerk's UPDATE of two columns).
    @Test func carriesGrantsAndTheCommentOver() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try migrations.write("g0000000001", parents: [Self.initial], message: "Grants",
                                 upgrade: "GRANT SELECT ON scores TO PUBLIC;\nGRANT UPDATE (band, guardrails) ON scores TO PUBLIC;\nCOMMENT ON TABLE scores IS 'Daily scores';",
                                 downgrade: "REVOKE SELECT ON scores FROM PUBLIC;\nREVOKE UPDATE (band, guardrails) ON scores FROM PUBLIC;\nCOMMENT ON TABLE scores IS NULL;")
            _ = try await Self.writeRecipe(db, migrations, on: "g0000000001")
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(try db.column("""
                SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
                WHERE c.oid = 'scores'::regclass AND a.grantee = 0 AND a.privilege_type = 'SELECT'
                """) == ["1"])
            #expect(try db.column("""
                SELECT string_agg(c.attname || ' ' || a.privilege_type, ', ' ORDER BY c.attname)
                FROM pg_attribute c, aclexplode(c.attacl) a WHERE c.attrelid = 'scores'::regclass AND a.grantee = 0
                """) == ["band UPDATE, guardrails UPDATE"])
            #expect(try db.column("SELECT obj_description('scores'::regclass, 'pg_class')") == ["Daily scores"])
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
        }
    }

    @Test func refusesAScoresThatIsAlreadyPartitioned() async throws {
        try await withTestDatabase { db in
            let (migrations, _, second) = try await Self.prepare(db)
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            // Written twice, it is refused; a copy slipped in by hand is refused when it runs.
            let twice = try await db.greyoak("db", "revision", "-m", "Again", "--recipe", "partition-scores", migrations: migrations.path)
            #expect(twice.status == 2 && twice.stderr.contains("the migrations hold the partition-scores recipe already: "), "\(twice)")
            let fresh = try MigrationsDirectory()
            defer { fresh.remove() }
            try await db.succeed("db", "revision", "-m", "Again", "--recipe", "partition-scores", "--head", "base", migrations: fresh.path)
            for name in try FileManager.default.contentsOfDirectory(atPath: fresh.path) {
                let text = try String(contentsOfFile: fresh.path + "/" + name, encoding: .utf8)
                try text.replacingOccurrences(of: "-- Revises: \n", with: "-- Revises: \(second)\n")
                    .write(toFile: migrations.path + "/" + name, atomically: true, encoding: .utf8)
            }
            let again = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(again.status != 0, "\(again)")
            #expect(again.stderr.contains("scores is already partitioned: the partition-scores recipe turns a plain scores table into a partitioned one"), "\(again)")
            #expect(try db.versionRows() == [second])
        }
    }

    @Test func refusesWhatItWouldLeaveBehind() async throws {
        try await withTestDatabase { db in
            let (migrations, _, _) = try await Self.prepare(db)
            defer { migrations.remove() }
            try db.query("CREATE VIEW recent AS SELECT * FROM scores")
            try db.query("CREATE INDEX extra ON scores (final_score)")
            let result = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("scores has what the partition-scores recipe does not carry over to the partitioned parent: "), "\(result)")
            #expect(result.stderr.contains("index extra") && result.stderr.contains("view recent"), "\(result)")
            #expect(try db.versionRows() == [Self.initial])
            #expect(try db.column("SELECT count(*) FROM pg_constraint WHERE conname = 'scores_legacy_bound'") == ["0"])
        }
    }

    /// pg_partman (in a cluster of the test's own: CREATE EXTENSION pg_partman needs a
    /// superuser) manages the partitioned scores and another parent; partitions its
    /// maintenance made or dropped on the live database only are no drift.
    @Test func partitionsThatPartmanManagesAreData() async throws {
        let cluster = try await PrivateCluster()
        defer { cluster.remove() }
        try await cluster.start()
        let admin = try Connection(ConnectionSettings(url: cluster.url(), environment: [:]), logger: quietLogger)
        try admin.execute("CREATE DATABASE partman")
        admin.close()
        let db = TestDatabase(name: "partman", url: cluster.url("partman"), adminURL: cluster.url())
        let (migrations, _, second) = try await Self.prepare(db)
        defer { migrations.remove() }
        // From next month on: scores_legacy covers everything before (its bound is next
        // month's first day when the replay's scores is empty).
        try migrations.write("pm0000000001", parents: [second], message: "pg_partman manages scores", upgrade: """
            CREATE SCHEMA partman;
            CREATE EXTENSION pg_partman SCHEMA partman;
            SELECT partman.create_parent('public.scores', 'scoring_date', 'native', 'monthly',
                                         p_start_partition := to_char(date_trunc('month', localtimestamp) + interval '1 month', 'YYYY-MM-DD'));
            CREATE TABLE events (at timestamp NOT NULL, what text) PARTITION BY RANGE (at);
            SELECT partman.create_parent('public.events', 'at', 'native', 'daily');
            """, downgrade: "DROP TABLE events;\nDROP EXTENSION pg_partman;\nDROP SCHEMA partman CASCADE;")
        try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
        for parent in ["scores", "events"] {
            #expect(try db.column("SELECT count(*) > 1 FROM pg_inherits WHERE inhparent = '\(parent)'::regclass") == ["t"])
        }
        let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
        #expect(verify.status == 0, "\(verify)")

        // Retention dropped the oldest partition of each here only; a load made one more.
        for parent in ["scores", "events"] {
            let oldest = try #require(db.column("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = '\(parent)'::regclass AND c.relname ~ '_p[0-9]' ORDER BY c.relname LIMIT 1
                """).first)
            try db.query("DROP TABLE \(oldest)")
        }
        try db.query("CREATE TABLE scores_p2040_01 PARTITION OF scores FOR VALUES FROM ('2040-01-01') TO ('2040-02-01')")
        let after = try await db.greyoak("db", "verify", migrations: migrations.path)
        #expect(after.status == 0, "\(after)")
        let generated = try await db.greyoak("db", "revision", "--autogenerate", "-m", "nothing", migrations: migrations.path)
        #expect(generated.stdout.hasPrefix("No changes: the live database matches"), "\(generated)")

        // A role that may not read part_config (a loader verifying) finds the same parents
        // from the template tables pg_partman makes for each.
        try db.query("CREATE ROLE partman_reader LOGIN")
        var reader = try #require(URLComponents(string: cluster.url("partman")))
        reader.user = "partman_reader"
        let connection = try Connection(ConnectionSettings(url: try #require(reader.string), environment: [:]), logger: quietLogger)
        defer { connection.close() }
        // Without USAGE on pg_partman's schema, then with it but without SELECT on part_config.
        for grant in [nil, "GRANT USAGE ON SCHEMA partman TO partman_reader"] {
            if let grant { try db.query(grant) }
            #expect(try connection.execute("""
                SELECT has_schema_privilege('partman', 'USAGE') AND has_table_privilege('partman.part_config', 'SELECT')
                """)[0, 0] == "f")
            #expect(try LoadPartitions.partmanParents(connection, schema: "public") == ["scores", "events"], "\(grant ?? "no grant")")
            #expect(try LoadPartitions.partmanParents(connection, schema: "other") == [])
        }
    }
}
