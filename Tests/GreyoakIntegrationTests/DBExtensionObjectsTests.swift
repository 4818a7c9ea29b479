import Foundation
import Testing
import GreyoakTestSupport

/// Objects that belong to an extension (`pg_depend.deptype = 'e'`) are the extension's, not
/// the schema's: `verify` and `revision --autogenerate` leave them out, wherever the
/// extension put them. Trusted contrib extensions, which the test role may create as the
/// database's owner: `lo` makes a domain in `public` (an object kind the catalog compares),
/// `pg_trgm` and `citext` make types, functions and operators there.
@Suite struct DBExtensionObjectsTests {
    func problems(_ result: CLIResult) -> [String] {
        result.lines.filter { $0.hasPrefix("problem: ") }.map { String($0.dropFirst("problem: ".count)) }
    }

    /// An extension installed by hand is drift, named once: the types, functions and
    /// operators it brings are its own, never listed.
    @Test func extensionsInstalledByHandAreDriftButNotTheirMembers() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            for name in ["lo", "pg_trgm", "citext"] { try db.query("CREATE EXTENSION \(name)") }
            #expect(try db.column("""
                SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = 'public' AND t.typname IN ('lo', 'citext', 'gtrgm') ORDER BY 1
                """) == ["citext", "gtrgm", "lo"])
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 8, "\(verify)")
            #expect(problems(verify).map { $0.components(separatedBy: " (found").first ?? $0 } == [
                "extension citext is not made by any migration",
                "extension lo is not made by any migration",
                "extension pg_trgm is not made by any migration",
            ], "\(verify)")
            try await db.succeed("db", "revision", "--autogenerate", "-m", "sync", "--rev-id", "r1", migrations: migrations.path)
            let text = try String(contentsOfFile: migrations.path + "/r1_sync.sql", encoding: .utf8)
            for name in ["citext", "lo", "pg_trgm"] { #expect(text.contains("CREATE EXTENSION \(name) WITH SCHEMA public VERSION"), "\(text)") }
            #expect(text.contains("DROP EXTENSION citext;"), "\(text)")
            try await db.succeed("db", "stamp", "r1", migrations: migrations.path)
            let clean = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(clean.status == 0, "\(clean)")
            // The same kind of object, made by hand, is drift.
            try db.query("CREATE DOMAIN percent AS numeric(5,2) CHECK (VALUE <= 100)")
            let drifted = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(drifted.status == 8, "\(drifted)")
            #expect(problems(drifted) == ["domain percent is not made by any migration (found numeric(5,2) NULL DEFAULT none CONSTRAINT percent_check CHECK ((VALUE <= (100)::numeric)))"])
        }
    }

    /// A migration that installs extensions and uses their types and operator classes
    /// replays into the scratch schema both before the extensions exist live (they are
    /// installed there, and rolled back) and after (they are found in `public`).
    @Test func migrationsThatUseExtensions() async throws {
        let sql = """
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE EXTENSION IF NOT EXISTS lo;
            CREATE TABLE handles (name citext PRIMARY KEY, picture lo);
            CREATE INDEX handles_trgm ON handles USING gin ((name::text) gin_trgm_ops);
            """
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory()
            defer { migrations.remove() }
            try migrations.write("4d9e2f3a6c33", message: "Handles", upgrade: sql, downgrade: "DROP TABLE handles;")
            let file = migrations.path + "/handles.schema"
            try sql.write(toFile: file, atomically: true, encoding: .utf8)

            let declared = try await db.greyoak("db", "revision", "--autogenerate", "--from-schema", file, "-m", "x", migrations: migrations.path)
            #expect(declared.lines == ["No changes: \(file) matches what the migrations build at 4d9e2f3a6c33; no file written"], "\(declared)")
            #expect(try db.column("SELECT count(*) FROM pg_extension WHERE extname IN ('citext', 'pg_trgm', 'lo')") == ["0"])

            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
            #expect(verify.lines.last?.hasSuffix("1 tables, 2 columns, 1 constraints, 2 indexes, 0 enum types") == true, "\(verify)")
            let generated = try await db.greyoak("db", "revision", "--autogenerate", "-m", "sync", migrations: migrations.path)
            #expect(generated.lines == ["No changes: the live database matches what the migrations build at 4d9e2f3a6c33; no file written"], "\(generated)")
        }
    }
}
