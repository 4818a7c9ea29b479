import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// Where `verify` and `revision --autogenerate` build the expected schema: a scratch database
/// that is dropped after (leftovers of crashed runs too, but never a running one's), the
/// `--dev-url` database for a role that cannot create databases, and a rolled-back scratch
/// schema only as the last resort.
@Suite struct DBScratchReplayTests {
    /// A file that psql runs on an empty database: a schema of its own, an extension, and
    /// qualified names, which a scratch schema could not load.
    static let psqlFile = """
        CREATE SCHEMA audit;
        CREATE EXTENSION pg_trgm;
        CREATE TABLE public.t (id integer PRIMARY KEY, name text);
        CREATE INDEX t_name_trgm ON public.t USING gin (name gin_trgm_ops);
        CREATE TABLE audit.log (at timestamptz);
        """

    @Test func fromSchemaLoadsWhatPsqlLoads() async throws {
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "empty", upgrade: "SELECT 1;")
        let file = migrations.path + "/desired.schema"
        try Self.psqlFile.write(toFile: file, atomically: true, encoding: .utf8)
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try await db.succeed("db", "revision", "--autogenerate", "--from-schema", file, "-m", "t", "--rev-id", "r1", migrations: migrations.path)
            let text = try String(contentsOfFile: migrations.path + "/r1_t.sql", encoding: .utf8)
            #expect(text.contains("the migrations replayed in a scratch database"), "\(text)")
            #expect(text.contains("CREATE EXTENSION pg_trgm WITH SCHEMA public VERSION"), "\(text)")
            #expect(text.contains("CREATE TABLE t ("), "\(text)")
            #expect(text.contains("CREATE INDEX t_name_trgm ON t USING gin (name gin_trgm_ops);"), "\(text)")
            #expect(try db.column("""
                SELECT count(*) FROM pg_database WHERE datname LIKE 'greyoak\\_scratch\\_%'
                  AND split_part(substr(datname, 17), '_', 1) NOT IN (SELECT pid::text FROM pg_stat_activity)
                  AND datname NOT IN ('greyoak_scratch_1_dead')
                """) == ["0"], "none left whose session has gone (other tests' runs may hold theirs; the leftover test makes a dead one on purpose)")
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let again = try await db.greyoak("db", "revision", "--autogenerate", "--from-schema", file, "-m", "again", migrations: migrations.path)
            #expect(again.lines == ["No changes: \(file) matches what the migrations build at r1; no file written"], "\(again)")
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
        }
    }

    /// A leftover whose session is gone is dropped; one whose session lives is kept.
    @Test func leftoversOfCrashedRunsAreDropped() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let admin = try db.connect(db.adminURL)
            let holder = try db.connect()
            let dead = "greyoak_scratch_1_dead", alive = "greyoak_scratch_\(holder.backendPID)_alive"
            try admin.execute("CREATE DATABASE \(dead) TEMPLATE template0")
            try admin.execute("CREATE DATABASE \(alive) TEMPLATE template0")
            // The holder ends only after its database is gone: a live leftover whose session
            // had ended would be a dead one to the concurrent test that counts those.
            defer {
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(dead)")
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(alive)")
                holder.close()
            }
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
            // Other tests' runs may hold scratch databases of their own meanwhile: only these two count.
            #expect(try db.column("SELECT datname FROM pg_database WHERE datname IN ('\(dead)', '\(alive)') ORDER BY 1") == [alive])
        }
    }

    /// A role that may not create databases: the scratch schema, said in a note; with
    /// `--dev-url`, that database, wiped; never the live database itself.
    @Test func roleWithoutCreateDatabase() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        try await withTestDatabase { db in
            let role = "greyoak_n_" + db.name.dropFirst("greyoak_t_".count), password = "dev-pass-4711"
            let admin = try db.connect(db.adminURL)
            let dev = "greyoak_dev_" + db.name.dropFirst("greyoak_t_".count)
            try admin.execute("CREATE ROLE \(role) LOGIN NOCREATEDB PASSWORD '\(password)'")
            // A non-superuser admin gives a database away only to a role it is a member of.
            try admin.execute("GRANT \(role) TO CURRENT_USER")
            try admin.execute("CREATE DATABASE \(dev) OWNER \(role) TEMPLATE template0")
            defer {
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(dev) WITH (FORCE)")
                _ = try? db.connect().execute("DROP OWNED BY \(role)")
                _ = try? admin.execute("DROP ROLE IF EXISTS \(role)")
            }
            try db.query("GRANT CREATE ON DATABASE \(db.name) TO \(role)")
            try db.query("GRANT CREATE ON SCHEMA public TO \(role)")
            var components = try #require(URLComponents(string: db.url))
            (components.user, components.password) = (role, password)
            let url = try #require(components.string)
            components.path = "/" + dev
            let devURL = try #require(components.string)

            let upgrade = try await CLI.run(["db", "upgrade", "head"], databaseURL: url, migrations: migrations.path)
            try #require(upgrade.status == 0, "\(upgrade)")
            let fallback = try await CLI.run(["db", "verify"], databaseURL: url, migrations: migrations.path)
            #expect(fallback.status == 0, "\(fallback)")
            #expect(fallback.lines.contains { $0.hasPrefix("note: the migrations were replayed in a scratch schema of the live database, rolled back (the role may not create databases: pass --dev-url)") }, "\(fallback)")

            try await CLI.run(["db", "upgrade", "head"], databaseURL: devURL, migrations: migrations.path)
            let withDev = try await CLI.run(["db", "verify", "--dev-url", devURL], databaseURL: url, migrations: migrations.path)
            #expect(withDev.status == 0, "\(withDev)")
            #expect(!withDev.stdout.contains("note: the migrations were replayed"), "\(withDev)")
            #expect(try Connection(ConnectionSettings(url: devURL, environment: [:]), logger: quietLogger)
                .execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")[0, 0] == "0",
                "the dev database is wiped after use")

            let itself = try await CLI.run(["db", "verify", "--dev-url", url], databaseURL: url, migrations: migrations.path)
            #expect(itself.status == 2, "\(itself)")
            #expect(itself.stderr.contains("--dev-url names the live database itself"), "\(itself)")
        }
    }
}
