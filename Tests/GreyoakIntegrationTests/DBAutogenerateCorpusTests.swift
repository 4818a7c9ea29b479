import Foundation
import Logging
import Testing
import GreyoakPostgres
import GreyoakSchema
import GreyoakTestSupport

/// `greyoak db revision --autogenerate` on a corpus in the style of migra's and
/// pg-schema-diff's: each folder of `Tests/schema-diff-corpus` holds a `before.sql` and an
/// `after.sql` (and, optionally, `expected.txt`: lines the generated file must contain).
///
/// For each case, on a database whose schema is `after` while its migrations stop at
/// `before` (a drifted database), the generated revision, once stamped, passes `db verify`,
/// and a second generation is empty. Then, with `public` emptied, the migrations run for
/// real: upgrading from `before` gives `after`'s catalog, downgrading gives `before`'s back,
/// and upgrading again gives `after`'s.
@Suite struct DBAutogenerateCorpusTests {
    static let corpus: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }  // the file, GreyoakIntegrationTests
        return url.appendingPathComponent("schema-diff-corpus").path
    }()

    /// Every case; `GREYOAK_CORPUS_CASES=a,b` runs only those (while working on them).
    static let cases: [String] = {
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? [])
            .filter { FileManager.default.fileExists(atPath: "\(corpus)/\($0)/after.sql") }
            .sorted()
        guard let only = ProcessInfo.processInfo.environment["GREYOAK_CORPUS_CASES"], !only.isEmpty else { return all }
        let wanted = Set(only.split(separator: ",").map(String.init))
        return all.filter { wanted.contains($0) }
    }()

    @Test func corpusIsLargeEnough() {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: Self.corpus)) ?? []
        #expect(all.count >= 25, "\(Self.corpus) holds \(all.count) cases")
    }

    @Test(arguments: cases)
    func corpusCase(_ name: String) async throws {
        let folder = "\(Self.corpus)/\(name)"
        let before = try String(contentsOfFile: "\(folder)/before.sql", encoding: .utf8)
        let expectedLines = ((try? String(contentsOfFile: "\(folder)/expected.txt", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "before", upgrade: before)

        try await withTestDatabase { db in
            // A drifted database: the schema is `after`, the version table says `before`.
            try load("\(folder)/after.sql", into: db)
            try await db.succeed("db", "stamp", "r0", migrations: migrations.path)
            let result = try await db.succeed("db", "revision", "--autogenerate", "-m", "sync \(name)", "--rev-id", "r1",
                                              migrations: migrations.path)
            let path = try #require(try FileManager.default.contentsOfDirectory(atPath: migrations.path).first { $0.hasPrefix("r1_") })
            let generated = try String(contentsOfFile: "\(migrations.path)/\(path)", encoding: .utf8)
            #expect(result.lines == ["Generating \(migrations.path)/\(path) ...  done"])
            for line in expectedLines { #expect(generated.contains(line), "\(name): the generated file lacks \(line):\n\(generated)") }
            #expect(!generated.contains("in a cycle") || expectedLines.contains { $0.contains("in a cycle") }, "\(generated)")
            let destructive = generated.components(separatedBy: "-- DESTRUCTIVE:").count - 1
            #expect(result.stderr.components(separatedBy: "DESTRUCTIVE:").count - 1 == destructive, "\(result)")

            try await db.succeed("db", "stamp", "r1", migrations: migrations.path)
            let again = try await db.succeed("db", "revision", "--autogenerate", "-m", "again", "--rev-id", "r2", migrations: migrations.path)
            #expect(again.lines == ["No changes: the live database matches what the migrations build at r1; no file written"], "\(generated)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: migrations.path).filter { $0.hasPrefix("r2") } == [])
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)\n\(generated)")

            // The migrations for real, from nothing (the same database, emptied: one fewer to make).
            // Everything the file made: other schemas and extensions too.
            for schema in try db.column("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'") {
                try db.query("DROP SCHEMA \"\(schema)\" CASCADE")
            }
            for name in try db.column("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'") { try db.query("DROP EXTENSION \"\(name)\" CASCADE") }
            try db.query("CREATE SCHEMA public")
            let wantBefore = try catalog(db, of: "\(folder)/before.sql"), wantAfter = try catalog(db, of: "\(folder)/after.sql")
            try await db.succeed("db", "upgrade", "r0", migrations: migrations.path)
            try expectCatalog(of: db, equals: wantBefore, "at r0")
            let rows = try rowCounts(db)
            let upgrade = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            try #require(upgrade.status == 0, "\(upgrade)\n\(generated)")
            try expectCatalog(of: db, equals: wantAfter, "after upgrade\n\(generated)")
            // Tables that both sides keep keep their rows, both ways.
            let upgradedRows = try rowCounts(db)
            #expect(upgradedRows.filter { rows[$0.key] != nil } == rows.filter { upgradedRows[$0.key] != nil })
            let downgrade = try await db.greyoak("db", "downgrade", "r0", migrations: migrations.path)
            try #require(downgrade.status == 0, "\(downgrade)\n\(generated)")
            try expectCatalog(of: db, equals: wantBefore, "after downgrade\n\(generated)")
            let downgradedRows = try rowCounts(db)
            #expect(rows.filter { upgradedRows[$0.key] != nil } == downgradedRows.filter { upgradedRows[$0.key] != nil })
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try expectCatalog(of: db, equals: wantAfter, "after upgrading again")
        }
    }

    /// `--from-schema` writes the same migration as the live comparison, without the
    /// database being at the desired state (or even at head).
    @Test func fromSchemaFileMatchesTheLiveComparison() async throws {
        let folder = "\(Self.corpus)/scores_drift"
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "before", upgrade: try String(contentsOfFile: "\(folder)/before.sql", encoding: .utf8))
        try await withTestDatabase { db in
            let result = try await db.succeed("db", "revision", "--autogenerate", "--from-schema", "\(folder)/after.sql",
                                              "-m", "declared", "--rev-id", "r1", migrations: migrations.path)
            #expect(result.lines.first?.hasPrefix("Generating \(migrations.path)/r1_declared.sql") == true)
            #expect(try db.versionRows() == nil, "generating from a file changes nothing in the database")
            #expect(try db.column("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'greyoak_verify%'") == ["0"])
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try expectCatalog(of: db, equals: "\(folder)/after.sql", "after upgrade")

            let live = try await db.greyoak("db", "revision", "--autogenerate", "--from-schema", "\(folder)/after.sql",
                                            "-m", "again", migrations: migrations.path)
            #expect(live.lines == ["No changes: \(folder)/after.sql matches what the migrations build at r1; no file written"])
        }
    }

    /// Rows survive, and the numbering goes on after them, when a serial column becomes an
    /// identity and back.
    @Test func serialToIdentityKeepsCounting() async throws {
        let folder = "\(Self.corpus)/serial_to_identity"
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "before", upgrade: try String(contentsOfFile: "\(folder)/before.sql", encoding: .utf8))
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "r0", migrations: migrations.path)
            try await db.succeed("db", "revision", "--autogenerate", "--from-schema", "\(folder)/after.sql", "-m", "identity",
                                 "--rev-id", "r1", migrations: migrations.path)
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(try db.column("INSERT INTO t (body) VALUES ('four') RETURNING id") == ["4"])
            try await db.succeed("db", "downgrade", "r0", migrations: migrations.path)
            #expect(try db.column("INSERT INTO t (body) VALUES ('five') RETURNING id") == ["5"])
            #expect(try db.column("SELECT body FROM t ORDER BY id") == ["one", "two", "three", "four", "five"])
        }
    }

    /// PostgreSQL cannot ALTER a table into a partitioned one (or back): greyoak says how to
    /// do it by hand, and writes no file.
    @Test func tableTurningPartitionedIsRefusedWithARecipe() async throws {
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "plain", upgrade: "CREATE TABLE readings (at date NOT NULL, v integer);")
        let file = migrations.path + "/partitioned.schema"
        try "CREATE TABLE readings (at date NOT NULL, v integer) PARTITION BY RANGE (at);\n".write(toFile: file, atomically: true, encoding: .utf8)
        try await withTestDatabase { db in
            let result = try await db.greyoak("db", "revision", "--autogenerate", "--from-schema", file, "-m", "x", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == ["No changes greyoak can write: \(file) differs from what the migrations build at r0 only in what it does not generate (above); no file written"])
            #expect(result.stderr.contains("NOT GENERATED: table readings changes its partitioning from none to RANGE (at), which PostgreSQL cannot ALTER"), "\(result)")
            #expect(result.stderr.contains("INSERT INTO it SELECT * FROM readings"), "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: migrations.path).filter { $0.hasSuffix(".sql") }.count == 1)
        }
    }

    @Test func liveDatabaseBehindHeadIsRefused() async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "2b7e0c9d4a11", migrations: migrations.path)
            let result = try await db.greyoak("db", "revision", "--autogenerate", "-m", "x", migrations: migrations.path)
            #expect(result.status == 3, "\(result)")
            #expect(result.stderr.hasPrefix("FAILED: Target database is not up to date: it is at 2b7e0c9d4a11, the new revision builds on 3c8f1d2e5b22"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: migrations.path).count == 3)
        }
    }

    @Test func fromSchemaFileThatFailsNamesItsLine() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let file = migrations.path + "/broken.schema"
        try "CREATE TABLE a (id integer);\n\nCREATE TABLE b (id integr);\n".write(toFile: file, atomically: true, encoding: .utf8)
        try await withTestDatabase { db in
            let result = try await db.greyoak("db", "revision", "--autogenerate", "--from-schema", file, "-m", "x", migrations: migrations.path)
            #expect(result.status == 9, "\(result)")
            #expect(result.stderr.hasPrefix("FAILED: \(file):3: "), "\(result)")
            #expect(result.stderr.contains("type \"integr\" does not exist"), "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: migrations.path).filter { $0.hasSuffix(".sql") }.count == 1)
            #expect(try !db.tableExists("a"))
        }
    }

    /// A materialized view is generated with its index.
    @Test func materializedViewsAreGenerated() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try db.query("CREATE MATERIALIZED VIEW strong_buys AS SELECT ticker FROM scores WHERE band = 'Strong Buy'")
            try db.query("CREATE INDEX strong_buys_ticker ON strong_buys (ticker)")
            try await db.succeed("db", "revision", "--autogenerate", "-m", "mv", "--rev-id", "r1", migrations: migrations.path)
            let text = try String(contentsOfFile: migrations.path + "/r1_mv.sql", encoding: .utf8)
            #expect(text.contains("CREATE MATERIALIZED VIEW strong_buys AS\nSELECT scores.ticker"), "\(text)")
            #expect(text.contains("CREATE INDEX strong_buys_ticker ON strong_buys USING btree (ticker);"), "\(text)")
            #expect(text.contains("DROP MATERIALIZED VIEW strong_buys;"), "\(text)")
            try await db.succeed("db", "stamp", "r1", migrations: migrations.path)
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
        }
    }

    @Test func fromSchemaNeedsAutogenerate() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "revision", "-m", "x", "--from-schema", "/dev/null"],
                                       databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr == "FAILED: --from-schema works with --autogenerate only\n")
    }

    /// Runs a SQL file's statements on the database.
    func load(_ path: String, into db: TestDatabase) throws {
        let connection = try db.connect()
        for statement in SQLSplitter.split(try String(contentsOfFile: path, encoding: .utf8)) {
            try connection.execute(statement.text)
        }
    }

    /// Rows per table of `public`, greyoak's bookkeeping left out.
    func rowCounts(_ db: TestDatabase) throws -> [String: String] {
        let rows = try db.query("""
            SELECT c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relname NOT IN ('alembic_version', 'greyoak_migration_log')
            """)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0]!, $0[1]!) })
    }

    /// What a SQL file builds, loaded into a scratch database (dropped after).
    func catalog(_ db: TestDatabase, of path: String) throws -> CatalogSnapshot {
        let (built, place) = try SchemaReplay(connection: try db.connect(), logger: Logger(label: "test")).loading(path)
        #expect(place.kind == "a scratch database", "\(place)")
        return CatalogSnapshot(built)
    }

    /// The live `public` schema equals `want`, object for object.
    func expectCatalog(of db: TestDatabase, equals want: CatalogSnapshot, _ when: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let have = CatalogSnapshot(try ScratchSchema.live(try db.connect(), schema: "public"))
        #expect(have.differences(from: want) == [], "\(when)", sourceLocation: sourceLocation)
    }

    func expectCatalog(of db: TestDatabase, equals path: String, _ when: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        try expectCatalog(of: db, equals: try catalog(db, of: path), when, sourceLocation: sourceLocation)
    }
}
