import Foundation
import Testing
import GreyoakTestSupport

/// `--schema NAME` (repeatable, Alembic's `include_schemas`): `db verify` and
/// `db revision --autogenerate` compare the schemas named, and only those.
@Suite struct DBSchemaOptionTests {
    static let initial = """
        CREATE SCHEMA app;
        CREATE TABLE app.accounts (id integer PRIMARY KEY, name text);
        CREATE TABLE notes (id integer PRIMARY KEY);
        """

    /// A database upgraded to `initial`, with `app.extra` added by hand.
    func withDriftedApp(_ body: (TestDatabase, MigrationsDirectory) async throws -> Void) async throws {
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "initial", upgrade: Self.initial)
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try db.query("CREATE TABLE app.extra (id integer)")
            try await body(db, migrations)
        }
    }

    @Test func verifyComparesTheNamedSchemasOnly() async throws {
        try await withDriftedApp { db, migrations in
            try db.query("ALTER TABLE notes ADD COLUMN body text")

            let plain = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(plain.lines.filter { $0.hasPrefix("problem:") } == [
                "problem: column notes.body is not made by any migration (found text NULL DEFAULT none)",
            ], "\(plain)")
            let app = try await db.greyoak("db", "verify", "--schema", "app", migrations: migrations.path)
            #expect(app.lines.filter { $0.hasPrefix("problem:") } == [
                "problem: schema app: column extra.id is not made by any migration (found integer NULL DEFAULT none)",
                "problem: schema app: relation extra is not made by any migration (found table)",
            ], "\(app)")
            let both = try await db.greyoak("db", "verify", "--schema", "app", "--schema", "public", migrations: migrations.path)
            #expect(both.status != 0)
            #expect(both.lines.filter { $0.hasPrefix("problem:") }.count == 3, "\(both)")
            let missing = try await db.greyoak("db", "verify", "--schema", "nowhere", migrations: migrations.path)
            #expect(missing.status == 0, "a schema that neither side has is no difference: \(missing)")
        }
    }

    /// Changes to two schemas, one of them new: each section runs under its own search path,
    /// the new schema is made first and dropped last, and the round trip holds.
    @Test func autogenerateManagesTheNamedSchemas() async throws {
        try await withDriftedApp { db, migrations in
            try db.query("CREATE SCHEMA reporting")
            try db.query("CREATE VIEW reporting.names AS SELECT name FROM app.accounts")
            try db.query("CREATE TABLE ignored (id integer)")  // public is not managed here

            try await db.succeed("db", "revision", "--autogenerate", "--schema", "app", "--schema", "reporting",
                                 "-m", "sync", "--rev-id", "r1", migrations: migrations.path)
            let text = try String(contentsOfFile: migrations.path + "/r1_sync.sql", encoding: .utf8)
            for line in ["SET LOCAL search_path TO app;", "CREATE TABLE extra (", "CREATE SCHEMA reporting;",
                         "SET LOCAL search_path TO reporting;", "FROM app.accounts;", "SET LOCAL search_path TO DEFAULT;",
                         "DROP SCHEMA reporting;"] {
                #expect(text.contains(line), "\(line)\n\(text)")
            }
            #expect(!text.contains("ignored"), "\(text)")

            try await db.succeed("db", "stamp", "r1", migrations: migrations.path)
            let verify = try await db.greyoak("db", "verify", "--schema", "app", "--schema", "reporting", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
            let again = try await db.greyoak("db", "revision", "--autogenerate", "--schema", "app", "--schema", "reporting",
                                             "-m", "again", migrations: migrations.path)
            #expect(again.lines.first?.hasPrefix("No changes") == true, "\(again)")

            try await db.succeed("db", "downgrade", "r0", migrations: migrations.path)
            #expect(try db.column("SELECT count(*) FROM pg_namespace WHERE nspname = 'reporting'") == ["0"])
            #expect(try !db.tableExists("extra"))
            #expect(try db.column("SELECT to_regclass('app.extra') IS NULL") == ["t"])
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(try db.column("SELECT to_regclass('app.extra') IS NOT NULL AND to_regclass('reporting.names') IS NOT NULL") == ["t"])
            #expect(try db.column("SELECT to_regclass('public.extra') IS NULL") == ["t"], "nothing lands in public")
            let after = try await db.greyoak("db", "verify", "--schema", "app", "--schema", "reporting", migrations: migrations.path)
            #expect(after.status == 0, "\(after)")
        }
    }

    @Test func schemaNeedsAutogenerate() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "revision", "-m", "x", "--schema", "app"],
                                       databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr == "FAILED: --schema works with --autogenerate only\n")
    }
}
