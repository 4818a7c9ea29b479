import Foundation
import Testing
import GreyoakTestSupport

/// `greyoak db plan`: per statement locks, rewrites and builds from a scratch replay, the
/// round trip, weighed by the live tables; and the live database left untouched.
@Suite struct DBPlanTests {
    static let initial = MigrationsDirectory.initialRevision
    static let setup = "7a0000000000"

    /// One pending migration per case on top of `setup`, in this order.
    static let corpus: [(id: String, transactional: Bool, upgrade: String, downgrade: String)] = [
        ("7a0000000001", true, "ALTER TABLE scores ADD COLUMN confidence FLOAT DEFAULT 0;", "ALTER TABLE scores DROP COLUMN confidence;"),
        ("7a0000000002", true, "ALTER TABLE scores ADD COLUMN loaded_at TIMESTAMPTZ DEFAULT clock_timestamp();", "ALTER TABLE scores DROP COLUMN loaded_at;"),
        ("7a0000000003", true, "ALTER TABLE scores ALTER COLUMN votes TYPE BIGINT;", "ALTER TABLE scores ALTER COLUMN votes TYPE INT;"),
        ("7a0000000004", true, "ALTER TABLE scores ALTER COLUMN note TYPE VARCHAR(40);", "ALTER TABLE scores ALTER COLUMN note TYPE VARCHAR(10);"),
        ("7a0000000005", true, "ALTER TABLE scores ALTER COLUMN final_score TYPE NUMERIC(6,2);", "ALTER TABLE scores ALTER COLUMN final_score TYPE FLOAT;"),
        ("7a0000000006", true, "ALTER TABLE scores ALTER COLUMN as_of SET NOT NULL;", "ALTER TABLE scores ALTER COLUMN as_of DROP NOT NULL;"),
        ("7a0000000007", true, "ALTER TABLE scores ADD CONSTRAINT final_range CHECK (final_score BETWEEN 0 AND 100);", "ALTER TABLE scores DROP CONSTRAINT final_range;"),
        ("7a0000000008", true, "ALTER TABLE scores ADD CONSTRAINT risk_range CHECK (risk_penalty BETWEEN 0 AND 20) NOT VALID;", "ALTER TABLE scores DROP CONSTRAINT risk_range;"),
        ("7a0000000009", true, "ALTER TABLE scores ADD CONSTRAINT fk_ticker FOREIGN KEY (ticker) REFERENCES tickers (ticker);", "ALTER TABLE scores DROP CONSTRAINT fk_ticker;"),
        ("7a0000000010", true, "ALTER TABLE scores ADD CONSTRAINT fk_ticker2 FOREIGN KEY (ticker) REFERENCES tickers (ticker) NOT VALID;", "ALTER TABLE scores DROP CONSTRAINT fk_ticker2;"),
        ("7a0000000011", true, "CREATE INDEX idx_scores_final ON scores (final_score);", "DROP INDEX idx_scores_final;"),
        ("7a0000000012", false, "CREATE INDEX CONCURRENTLY idx_scores_asof ON scores (as_of);", "DROP INDEX CONCURRENTLY idx_scores_asof;"),
        ("7a0000000013", true, "ALTER TYPE band_enum ADD VALUE 'Sell';", ""),
        ("7a0000000014", true, "ALTER TABLE scores DROP COLUMN o_z;", "ALTER TABLE scores ADD COLUMN o_z FLOAT;"),
        ("7a0000000015", true, "CREATE INDEX idx_scores_risk ON scores (risk_penalty);", ""),
        ("7a0000000016", true, "REINDEX INDEX idx_scores_band;", ""),
    ]

    static func corpusDirectory() throws -> MigrationsDirectory {
        let migrations = try MigrationsDirectory.copyOfRepository()
        try migrations.write(setup, parents: [initial], message: "Setup", upgrade: """
            ALTER TABLE scores ADD COLUMN votes INT, ADD COLUMN note VARCHAR(10);
            CREATE TABLE tickers (ticker VARCHAR(20) PRIMARY KEY);
            """, downgrade: "DROP TABLE tickers;\nALTER TABLE scores DROP COLUMN votes, DROP COLUMN note;")
        var parent = setup
        for entry in corpus {
            try migrations.write(entry.id, parents: [parent], message: "case \(entry.id.suffix(2))", transactional: entry.transactional,
                                 upgrade: entry.upgrade, downgrade: entry.downgrade)
            parent = entry.id
        }
        return migrations
    }

    /// The database at `setup` with 2,000 vacuumed and analysed rows.
    static func prepare(_ db: TestDatabase, _ migrations: MigrationsDirectory) async throws {
        try await db.succeed("db", "upgrade", setup, migrations: migrations.path)
        try db.query("""
            INSERT INTO scores (ticker, scoring_date, mode, final_score, as_of)
            SELECT 'T' || g, '2024-10-09', 'Trader', 50, now() FROM generate_series(1, 2000) g
            """)
        // VACUUM too: its visibility map and free space map count in pg_total_relation_size,
        // and autovacuum must not add them between the plan and the test's own look.
        try db.query("VACUUM ANALYZE scores")
    }

    /// `db plan --json`, parsed, by revision.
    static func plan(_ db: TestDatabase, _ migrations: MigrationsDirectory, _ extra: String...) async throws -> [String: [String: Any]] {
        let result = try await CLI.run(["db", "plan", "--json"] + extra, databaseURL: db.url, migrations: migrations.path)
        try #require(result.status == 0, "\(result)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], "\(result)")
        return Dictionary(uniqueKeysWithValues: array.map { ($0["revision"] as! String, $0) })
    }

    /// (locks as "relation mode", rewrites, builds, scans) of a one-statement migration.
    static func statement(_ plan: [String: Any]?) throws -> (locks: [String], rewrites: [String], builds: [String], scans: [String]) {
        let statements = try #require(plan?["statements"] as? [[String: Any]])
        try #require(statements.count == 1)
        let locks = (statements[0]["locks"] as? [[String: String]] ?? []).map { "\($0["relation"]!) \($0["mode"]!)" }
        return (locks, statements[0]["rewrites"] as? [String] ?? [], statements[0]["builds"] as? [String] ?? [],
                statements[0]["scans"] as? [String] ?? [])
    }

    @Test func corpusOfRiskyAndHarmlessChanges() async throws {
        try await withTestDatabase { db in
            let migrations = try Self.corpusDirectory()
            defer { migrations.remove() }
            try await Self.prepare(db, migrations)
            let plans = try await Self.plan(db, migrations)
            #expect(plans.count == Self.corpus.count)
            let exclusive = ["scores AccessExclusiveLock"]

            // Defaults: a constant one is stored in the catalog, a volatile one rewrites.
            var found = try Self.statement(plans["7a0000000001"])
            #expect(found.locks == exclusive && found.rewrites.isEmpty)
            found = try Self.statement(plans["7a0000000002"])
            #expect(found.locks == exclusive && found.rewrites == ["scores"])
            #expect(found.builds.contains("scores_pkey"), "a rewrite rebuilds the indexes: \(found.builds)")
            // Types: int → bigint and float → numeric rewrite, widening a varchar does not.
            #expect(try Self.statement(plans["7a0000000003"]).rewrites == ["scores"])
            found = try Self.statement(plans["7a0000000004"])
            #expect(found.locks == exclusive && found.rewrites.isEmpty && found.builds.isEmpty)
            #expect(try Self.statement(plans["7a0000000005"]).rewrites == ["scores"])
            // SET NOT NULL and a validated CHECK scan under ACCESS EXCLUSIVE; NOT VALID does not scan.
            found = try Self.statement(plans["7a0000000006"])
            #expect(found.locks == exclusive && found.scans == ["scores"] && found.rewrites.isEmpty)
            #expect(try Self.statement(plans["7a0000000007"]).scans == ["scores"])
            found = try Self.statement(plans["7a0000000008"])
            #expect(found.locks == exclusive && found.scans.isEmpty)
            // A foreign key locks both tables SHARE ROW EXCLUSIVE; NOT VALID skips the scan.
            found = try Self.statement(plans["7a0000000009"])
            #expect(Set(found.locks) == ["scores ShareRowExclusiveLock", "tickers ShareRowExclusiveLock"])
            #expect(found.scans == ["scores"])
            found = try Self.statement(plans["7a0000000010"])
            #expect(Set(found.locks) == ["scores ShareRowExclusiveLock", "tickers ShareRowExclusiveLock"] && found.scans.isEmpty)
            // A plain index blocks writes (SHARE); CONCURRENTLY only SHARE UPDATE EXCLUSIVE, described, not replayed.
            found = try Self.statement(plans["7a0000000011"])
            #expect(found.locks == ["scores ShareLock"] && found.builds == ["idx_scores_final"])
            let concurrent = try #require(plans["7a0000000012"])
            #expect(concurrent["replayed"] as? Bool == false && concurrent["transactional"] as? Bool == false)
            found = try Self.statement(concurrent)
            #expect(found.locks == ["scores ShareUpdateExclusiveLock"] && found.builds == ["idx_scores_asof"])
            // An enum value takes no table lock, and its empty downgrade leaves it behind.
            #expect(try Self.statement(plans["7a0000000013"]).locks.isEmpty)
            let enumTrip = try #require(plans["7a0000000013"]?["round_trip"] as? [String: Any])
            #expect(enumTrip["ok"] as? Bool == false)
            #expect((enumTrip["problems"] as? [String])?.contains { $0.contains("enum band_enum") } == true, "\(enumTrip)")
            // DROP COLUMN: the catalog round trip holds, the data does not come back.
            let dropTrip = try #require(plans["7a0000000014"]?["round_trip"] as? [String: Any])
            #expect(dropTrip["ok"] as? Bool == true, "\(dropTrip)")
            let loss = try #require(dropTrip["data_loss"] as? [String])
            #expect(loss.count == 1 && loss[0].contains("column scores.o_z"), "\(loss)")
            // A downgrade that forgets its index.
            let forgetful = try #require(plans["7a0000000015"]?["round_trip"] as? [String: Any])
            #expect((forgetful["problems"] as? [String])?.first == "upgrade then downgrade: index idx_scores_risk is left over (CREATE INDEX idx_scores_risk ON scores USING btree (risk_penalty))", "\(forgetful)")

            // An index rewritten on its own.
            found = try Self.statement(plans["7a0000000016"])
            #expect(found.locks == ["scores ShareLock"] && found.rewrites == ["idx_scores_band"] && found.builds == ["idx_scores_band"], "\(found)")

            // Weighed by the live table of the same name.
            let tables = try #require(plans["7a0000000001"]?["tables"] as? [String: [String: Any]])
            #expect(tables["scores"]?["rows_estimate"] as? Int == 2000)
            let liveBytes = try db.column("SELECT pg_total_relation_size('scores')::text")
            #expect(tables["scores"]?["bytes"].map { "\($0)" } == liveBytes.first)
            // Harmless migrations have a clean round trip.
            for id in ["7a0000000001", "7a0000000003", "7a0000000006", "7a0000000011"] {
                #expect((plans[id]?["round_trip"] as? [String: Any])?["ok"] as? Bool == true, "\(id)")
            }
        }
    }

    /// Plan changes nothing and takes no lock on the live tables: it runs to the end while
    /// another session holds ACCESS EXCLUSIVE on scores.
    @Test func planChangesNothingAndNeedsNoLockOnLiveTables() async throws {
        try await withTestDatabase { db in
            let migrations = try Self.corpusDirectory()
            defer { migrations.remove() }
            try await Self.prepare(db, migrations)
            let catalogBefore = try db.query("SELECT relname, relfilenode::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1")
            let holder = try await Blocker.start(db, name: "holder",
                                                 sql: "BEGIN; LOCK TABLE scores IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(20); COMMIT",
                                                 held: "l.mode = 'AccessExclusiveLock' AND l.granted")
            let result = try await CLI.run(["db", "plan"], databaseURL: db.url, migrations: migrations.path, timeout: 15)
            try await holder.end(db)

            #expect(result.status == 0, "\(result)")
            #expect(result.lines.first == "upgrade 7a0000000000 -> 7a0000000001, case 01")
            // Sizes under a queued lock come from relpages instead of pg_total_relation_size.
            #expect(result.stdout.contains("  line 8: AccessExclusiveLock on scores (2.0k rows, "), "\(result)")
            #expect(try db.versionRows() == [Self.setup])
            #expect(try db.query("SELECT relname, relfilenode::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1") == catalogBefore)
            #expect(try db.column("SELECT count(*)::text FROM pg_namespace WHERE nspname LIKE 'greyoak_plan_%'") == ["0"])
        }
    }

    /// A migration that needs what only the live database has (an extension installed by
    /// hand) cannot replay in an empty scratch database: the plan is made in a scratch schema
    /// of the live one instead, as verify's replay does.
    @Test func planFallsBackToAScratchSchemaForWhatOnlyTheLiveDatabaseHas() async throws {
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "people", upgrade: "CREATE TABLE people (id integer PRIMARY KEY, email citext);")
        try migrations.write("r1", parents: ["r0"], message: "names", upgrade: "ALTER TABLE people ADD COLUMN name text;")
        try await withTestDatabase { db in
            try db.query("CREATE EXTENSION citext")
            try await db.succeed("db", "upgrade", "r0", migrations: migrations.path)
            let result = try await db.greyoak("db", "plan", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(result.lines.first == "upgrade r0 -> r1, names", "\(result)")
            #expect(result.lines.dropFirst().first?.hasPrefix("  line 8: AccessExclusiveLock on people (") == true, "\(result)")
            #expect(result.stderr.contains("planned in a scratch schema instead"), "\(result)")
            #expect(try db.column("SELECT count(*)::text FROM pg_namespace WHERE nspname LIKE 'greyoak_plan_%'") == ["0"])
        }
    }

    static func pretty(_ db: TestDatabase) throws -> String {
        try db.column("SELECT pg_size_pretty(pg_total_relation_size('scores'))").first ?? ""
    }

    @Test func failOnHasItsOwnExitStatus() async throws {
        try await withTestDatabase { db in
            let migrations = try Self.corpusDirectory()
            defer { migrations.remove() }
            try await Self.prepare(db, migrations)
            // Up to case 01: ACCESS EXCLUSIVE, but no rewrite and a clean round trip.
            let clean = try await CLI.run(["db", "plan", "7a0000000001", "--fail-on", "rewrite,round-trip"],
                                          databaseURL: db.url, migrations: migrations.path)
            #expect(clean.status == 0, "\(clean)")
            #expect(clean.lines == ["upgrade 7a0000000000 -> 7a0000000001, case 01",
                                    "  line 8: AccessExclusiveLock on scores (2.0k rows, \(try Self.pretty(db)))",
                                    "  round trip: ok"], "\(clean)")
            let refused = try await CLI.run(["db", "plan", "7a0000000002", "--fail-on", "access-exclusive,rewrite"],
                                            databaseURL: db.url, migrations: migrations.path)
            #expect(refused.status == 11, "\(refused)")
            #expect(refused.stderr.contains("FAILED: the plan has what --fail-on forbids: 7a0000000001 has access-exclusive, 7a0000000002 has access-exclusive, 7a0000000002 has rewrite"), "\(refused)")
            let bad = try await CLI.run(["db", "plan", "--fail-on", "slowness"], databaseURL: db.url, migrations: migrations.path)
            #expect(bad.status == 2, "\(bad)")
        }
    }
}
