import Foundation
import Testing
import GreyoakTestSupport

/// `greyoak db verify`: version, edited files and catalog drift, each problem named.
@Suite struct DBVerifyTests {
    static let initial = MigrationsDirectory.initialRevision
    static let legacyTable = "CREATE TABLE scores (id SERIAL PRIMARY KEY, date DATE, score NUMERIC(5,2), f_pillar NUMERIC, guardrail_flags JSONB)"

    func problems(_ result: CLIResult) -> [String] {
        result.lines.filter { $0.hasPrefix("problem: ") }.map { String($0.dropFirst("problem: ".count)) }
    }

    @Test func cleanDatabaseAtHead() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == [
                "OK: \(db.url) is at head 183eb85141bf, migration files unedited, catalog of schema public: 1 tables, 23 columns, 1 constraints, 5 indexes, 1 enum types",
            ])
            // Verifying changes nothing: the scratch replay is rolled back.
            #expect(try db.column("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'greyoak_verify%'") == ["0"])
            // Other tests' runs may hold theirs right now: none whose session has gone is left.
            #expect(try db.column("""
                SELECT count(*) FROM pg_database WHERE datname LIKE 'greyoak\\_scratch\\_%'
                  AND split_part(substr(datname, 17), '_', 1) NOT IN (SELECT pid::text FROM pg_stat_activity)
                """) == ["0"])
            #expect(try db.column("SELECT count(*) FROM greyoak_migration_log") == ["1"])
        }
    }

    @Test func droppedIndex() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try db.query("DROP INDEX idx_scores_band")
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 8, "\(result)")
            #expect(problems(result) == ["index idx_scores_band is missing (the migrations make CREATE INDEX idx_scores_band ON scores USING btree (band))"])
            #expect(result.stderr == "FAILED: 1 problem(s) found in \(db.url); it is not safe to load into\n")
        }
    }

    @Test func droppedDefault() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try db.query("ALTER TABLE scores ALTER COLUMN created_at DROP DEFAULT")
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 8, "\(result)")
            #expect(problems(result) == [
                "column scores.created_at differs: the migrations make timestamp without time zone NULL DEFAULT now(), the database has timestamp without time zone NULL DEFAULT none",
            ])
        }
    }

    @Test func extraTableAndChangedEnum() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try db.query("CREATE TABLE extra (id INT)")
            try db.query("ALTER TYPE band_enum ADD VALUE 'Sell'")
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 8, "\(result)")
            #expect(Set(problems(result)) == [
                "column extra.id is not made by any migration (found integer NULL DEFAULT none)",
                "enum band_enum differs: the migrations make (Strong Buy, Buy, Hold, Avoid), the database has (Strong Buy, Buy, Hold, Avoid, Sell)",
                "relation extra is not made by any migration (found table)",
            ])
            #expect(result.stderr.hasPrefix("FAILED: 3 problem(s) found"))
        }
    }

    /// What a DBA's hand adds to a database at head: each is drift, named.
    @Test func handMadeObjectsAreDrift() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let role = "greyoak_r_" + db.name.dropFirst("greyoak_t_".count)
            let admin = try db.connect(db.adminURL)
            try admin.execute("CREATE ROLE \(role) NOLOGIN")
            defer {
                _ = try? db.connect().execute("DROP OWNED BY \(role)")
                _ = try? admin.execute("DROP ROLE IF EXISTS \(role)")
            }
            let changes: [(sql: [String], problem: String)] = [
                (["CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.created_at := now(); RETURN NEW; END$$"],
                 "function touch() is not made by any migration"),
                (["CREATE TRIGGER scores_touch BEFORE UPDATE ON scores FOR EACH ROW EXECUTE FUNCTION touch()"],
                 "trigger scores_touch on scores is not made by any migration"),
                (["COMMENT ON COLUMN scores.band IS 'the rating band'"], "comment on COLUMN scores.band is not made by any migration"),
                (["GRANT SELECT ON scores TO \(role)"], "grant SELECT on TABLE scores to \(role) is not made by any migration"),
                (["ALTER TABLE scores ENABLE ROW LEVEL SECURITY"], "row level security on scores is not made by any migration"),
                (["CREATE POLICY recent ON scores FOR SELECT USING (true)"], "policy recent on scores is not made by any migration"),
                (["CREATE EXTENSION pg_trgm"], "extension pg_trgm is not made by any migration"),
                (["CREATE TYPE pair AS (a int, b text)"], "composite type pair is not made by any migration (found (a integer, b text))"),
                (["CREATE TYPE floatrange AS RANGE (subtype = float8)"], "range type floatrange is not made by any migration (found subtype = double precision)"),
            ]
            for change in changes {
                for sql in change.sql { try db.query(sql) }
                let result = try await db.greyoak("db", "verify", migrations: migrations.path)
                #expect(result.status == 8, "\(change.sql): \(result)")
                #expect(problems(result).contains { $0.hasPrefix(change.problem) }, "\(change.sql): \(problems(result))")
            }
            // Changed, not only added: a function's body.
            try db.query("CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$")
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            // The definition spans lines: its body follows the problem's first line.
            #expect(problems(result).contains { $0.hasPrefix("function touch() is not made by any migration (found CREATE OR REPLACE FUNCTION touch()") }, "\(result)")
            #expect(result.stdout.contains("BEGIN RETURN NEW; END"), "\(result)")
        }
    }

    /// A composite or range type that differs from the migrations' names what differs.
    @Test func changedCompositeAndRangeTypes() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory()
            defer { migrations.remove() }
            try migrations.write("r0", message: "types", upgrade: """
                CREATE TYPE pair AS (a int, b text);
                CREATE TYPE floatrange AS RANGE (subtype = float8);
                CREATE TABLE t (p pair, r floatrange);
                """)
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try db.query("ALTER TYPE pair ADD ATTRIBUTE c date")
            try db.query("CREATE TYPE textrange AS RANGE (subtype = text, collation = \"C\", multirange_type_name = texts)")
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 8, "\(result)")
            #expect(Set(problems(result)) == [
                "composite type pair differs: the migrations make (a integer, b text), the database has (a integer, b text, c date)",
                "range type textrange is not made by any migration (found subtype = text, collation = \"C\", multirange_type_name = texts)",
            ])
        }
    }

    @Test func editedMigrationFile() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let path = migrations.path + "/" + MigrationsDirectory.initialFile
            let before = try sha256sum(path)
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)

            let handle = try #require(FileHandle(forWritingAtPath: path))
            handle.seekToEndOfFile()
            handle.write(Data("-- an innocent comment\n".utf8))
            try handle.close()
            let after = try sha256sum(path)

            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 8, "\(result)")
            #expect(problems(result) == ["\(path) was edited after it was applied: sha256 \(before.prefix(12))… when it ran, \(after.prefix(12))… now"])
        }
    }

    @Test func behindHead() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "183eb85141bf", migrations: migrations.path)
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 3, "\(result)")
            #expect(problems(result) == ["the database is at 183eb85141bf, not at head 3c8f1d2e5b22: run `greyoak db upgrade head`"])
        }
    }

    @Test func emptyDatabaseIsAtBase() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 3, "\(result)")
            #expect(problems(result) == ["the database has no revision (base): run `greyoak db upgrade head`"])
            #expect(try db.versionRows() == nil)
        }
    }

    @Test func stampedRevisionHasNoChecksumButNoDrift() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try db.query("DELETE FROM greyoak_migration_log")
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(result.lines.first == "note: 183eb85141bf has no recorded checksum (applied by Alembic or stamped), so edits to \(MigrationsDirectory.initialFile) cannot be detected")
        }
    }

    @Test func unknownRevision() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "stamp", "head", migrations: migrations.path)
            try db.query("UPDATE alembic_version SET version_num = 'ffff00000000'")
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 4, "\(result)")
            #expect(problems(result).first?.hasPrefix("alembic_version holds ffff00000000, which no migration file in \(migrations.path) defines") == true)
        }
    }

    // MARK: - The legacy table of the original Docker init script

    @Test func legacyTableIsNamedByVerify() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try db.query(Self.legacyTable)
            let result = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(result.status == 3, "\(result)")
            let first = try #require(problems(result).first)
            #expect(first.hasPrefix("the scores table is the legacy one from the original Docker init script"))
            #expect(first.contains("ALTER TABLE scores RENAME TO scores_legacy"))
            #expect(try db.versionRows() == nil)
        }
    }

    @Test func upgradeOverTheLegacyTableChangesNothing() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try db.query(Self.legacyTable)
            try db.query("INSERT INTO scores (date, score) VALUES ('2024-10-08', 71.5)")

            let result = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("relation \"scores\" already exists (SQLSTATE 42P07)"), "\(result)")
            #expect(result.stderr.contains("legacy `scores` table"), "\(result)")
            #expect(result.stderr.contains("Nothing was changed."), "\(result)")

            #expect(try db.versionRows() == nil)
            #expect(try !db.tableExists("greyoak_migration_log"))
            #expect(try db.column("SELECT count(*) FROM pg_type WHERE typname = 'band_enum'") == ["0"])
            #expect(try db.columns(of: "scores") == ["id", "date", "score", "f_pillar", "guardrail_flags"])
            #expect(try db.query("SELECT date::text, score::text FROM scores") == [["2024-10-08", "71.50"]])
        }
    }
}
