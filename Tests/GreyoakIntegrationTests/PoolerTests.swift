import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// greyoak through a real PgBouncer in transaction pooling mode (see ``Pooler``): no lock or
/// setting outlives its transaction on the pooler's server sessions, concurrent migrations
/// stay serialised, a killed load leaves nothing behind, and results match a direct run.
///
/// The lock tests run with `ignore_startup_parameters = options`, as the operator of issue 20
/// had it: through such a pooler a greyoak with session locks connects, and fails them.
@Suite("Behind a transaction pooler (PgBouncer)")
struct PoolerTests {
    /// greyoak's advisory locks (any key) held in the test database, seen directly.
    static func advisoryLocks(_ database: TestDatabase) throws -> [[String?]] {
        try database.query("""
            SELECT a.application_name, l.mode, l.granted::text FROM pg_locks l LEFT JOIN pg_stat_activity a USING (pid)
            WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """)
    }

    /// A score file of `tickers` x 2 modes for one day, generated deterministically.
    static func scoreFile(_ scratch: IngestScratch, _ name: String, tickers: Int = 300, start: String = "2024-10-08",
                          changed: Double? = nil) throws -> String {
        let path = scratch.file(name)
        try GenScores.run(["--tickers", String(tickers), "--start", start, "--out", path]
                          + (changed.map { ["--changed-fraction", String($0)] } ?? []))
        return path
    }

    /// Holds every server session of the pool (`poolSize`) at once, each by a client in a
    /// transaction, and expects none to keep a setting, a temporary table or a prepared
    /// statement of greyoak's; and no advisory lock in the database.
    static func expectCleanSessions(_ database: TestDatabase, url: String, poolSize: Int,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        var clients: [Connection] = []
        defer { clients.forEach { $0.close() } }
        var seen: Set<String> = []
        for _ in 0..<poolSize {
            let client = try database.connect(url)
            #expect(client.pooled, sourceLocation: sourceLocation)
            try client.execute("BEGIN")
            clients.append(client)
            seen.insert(try #require(client.execute("SELECT pg_backend_pid()")[0, 0], sourceLocation: sourceLocation))
            // PgBouncer itself sets the parameters it tracks for each client.
            let settings = try client.execute("""
                SELECT name || ' = ' || setting FROM pg_settings WHERE source = 'session'
                  AND name NOT IN ('application_name', 'client_encoding', 'DateStyle', 'TimeZone', 'standard_conforming_strings')
                """).column
            #expect(settings.isEmpty, "a server session of the pool keeps \(settings)", sourceLocation: sourceLocation)
            #expect(try client.execute("SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()")[0, 0] == "0",
                    sourceLocation: sourceLocation)
            #expect(try client.execute("SELECT count(*) FROM pg_prepared_statements")[0, 0] == "0", sourceLocation: sourceLocation)
        }
        #expect(seen.count == poolSize, "the clients did not cover the pool's \(poolSize) server sessions", sourceLocation: sourceLocation)
        #expect(try advisoryLocks(database).isEmpty, sourceLocation: sourceLocation)
    }

    @Test("a pooled load leaves no lock behind, and a direct migration right after it runs at once")
    func pooledLoadLeavesNoLock() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let file = try Self.scoreFile(scratch, "scores.csv")
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        try await withTestDatabase { database in
            let pooler = try await Pooler(poolSize: 4, ignoreOptions: true)
            defer { pooler.stop() }
            try await IngestCLI.upgradeHead(database)
            for _ in 0..<2 {
                let load = try await IngestCLI.ingest(database, [file, "--writers", "2", "--json"], databaseURL: pooler.url(database))
                #expect(load.status == 0, "\(load)\n\(pooler.log)")
            }
            #expect(try Self.advisoryLocks(database).isEmpty)
            try migrations.write("6a0000000001", parents: [MigrationsDirectory.initialRevision], message: "After a load",
                                 upgrade: "CREATE TABLE after_load (id INT);", downgrade: "DROP TABLE after_load;")
            let upgrade = try await database.greyoak("db", "upgrade", "head", "--lock-timeout", "1", migrations: migrations.path)
            #expect(upgrade.status == 0, "\(upgrade)")
            #expect(try database.versionRows() == ["6a0000000001"])
        }
    }

    @Test("4 concurrent pooled `db upgrade head` apply each revision once, a non-transactional one through --direct-url")
    func concurrentPooledUpgrades() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        // A type (the pg_type duplicate) and a slow step, so that the runs overlap.
        try migrations.write("6b0000000001", parents: [MigrationsDirectory.initialRevision], message: "Type",
                             upgrade: "SELECT pg_sleep(1);\nCREATE TYPE grade AS ENUM ('a', 'b');\nCREATE TABLE graded (g grade);",
                             downgrade: "DROP TABLE graded;\nDROP TYPE grade;")
        try migrations.write("6b0000000002", parents: ["6b0000000001"], message: "Index", transactional: false,
                             upgrade: "SELECT pg_sleep(1);\nCREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);",
                             downgrade: "DROP INDEX CONCURRENTLY idx_scores_as_of;")
        try await withTestDatabase { database in
            let pooler = try await Pooler(poolSize: 4, ignoreOptions: true)
            defer { pooler.stop() }
            let runs = try await withThrowingTaskGroup(of: CLIResult.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await CLI.run(["db", "upgrade", "head", "--lock-timeout", "30"], databaseURL: pooler.url(database),
                                          migrations: migrations.path, environment: ["GREYOAK_DIRECT_URL": database.url], timeout: 60)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for run in runs { #expect(run.status == 0, "\(run)") }
            #expect(runs.filter { $0.stderr.contains("Running upgrade") }.count == 1, "\(runs)")
            #expect(try database.versionRows() == ["6b0000000002"])
            #expect(try database.query("""
                SELECT revision, count(*)::text FROM greyoak_migration_log WHERE operation = 'upgrade' GROUP BY revision ORDER BY revision
                """) == [["183eb85141bf", "1"], ["6b0000000001", "1"], ["6b0000000002", "1"]])
            #expect(try database.column("SELECT indisvalid::text FROM pg_index WHERE indexrelid = to_regclass('idx_scores_as_of')") == ["true"])
            #expect(try Self.advisoryLocks(database).isEmpty)
        }
    }

    @Test("a non-transactional migration or --backup through the pooler without --direct-url stops before any change")
    func sessionBoundWorkNeedsTheDirectURL() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        try migrations.write("6c0000000001", parents: [MigrationsDirectory.initialRevision], message: "Before",
                             upgrade: "CREATE TABLE before_index (id INT);", downgrade: "DROP TABLE before_index;")
        try migrations.write("6c0000000002", parents: ["6c0000000001"], message: "Index", transactional: false,
                             upgrade: "CREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);")
        let backups = try IngestScratch()
        defer { backups.remove() }
        try await withTestDatabase { database in
            let pooler = try await Pooler()
            defer { pooler.stop() }
            try await database.succeed("db", "upgrade", MigrationsDirectory.initialRevision, migrations: migrations.path)
            let refused = try await CLI.run(["db", "upgrade", "head"], databaseURL: pooler.url(database), migrations: migrations.path)
            #expect(refused.status == 2, "\(refused)")
            #expect(refused.stderr.contains("connection pooler") && refused.stderr.contains("--direct-url"), "\(refused)")
            #expect(refused.stderr.contains("6c0000000002"), "\(refused)")
            #expect(try database.versionRows() == [MigrationsDirectory.initialRevision])
            #expect(try !database.tableExists("before_index"))

            let backup = try await CLI.run(["db", "upgrade", "6c0000000001", "--backup", backups.path], databaseURL: pooler.url(database),
                                           migrations: migrations.path)
            #expect(backup.status == 2 && backup.stderr.contains("pg_dump"), "\(backup)")
            #expect(try database.versionRows() == [MigrationsDirectory.initialRevision])
            let direct = try await CLI.run(["db", "upgrade", "head", "--backup", backups.path, "--direct-url", database.url],
                                           databaseURL: pooler.url(database), migrations: migrations.path)
            #expect(direct.status == 0, "\(direct)")
            #expect(try database.versionRows() == ["6c0000000002"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: backups.path).count == 1)
        }
    }

    @Test("no setting, lock or temporary table greyoak makes is seen by another client of the pool",
          arguments: [false, true])
    func nothingLeaksToOtherClients(ignoreOptions: Bool) async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let first = try Self.scoreFile(scratch, "first.csv")
        let second = try Self.scoreFile(scratch, "second.csv", changed: 0.1)
        try await withTestDatabase { database in
            let pooler = try await Pooler(poolSize: 4, ignoreOptions: ignoreOptions)
            defer { pooler.stop() }
            let url = pooler.url(database)
            let upgrade = try await CLI.run(["db", "upgrade", "head"], databaseURL: url, migrations: IngestRepo.migrations)
            try #require(upgrade.status == 0, "\(upgrade)")
            for (file, writers) in [(first, "2"), (second, "1"), (second, "2")] {
                let load = try await IngestCLI.ingest(database, [file, "--writers", writers], databaseURL: url)
                try #require(load.status == 0, "\(load)")
            }
            for command in [["db", "verify"], ["db", "plan"], ["db", "recover"]] {
                let result = try await CLI.run(command, databaseURL: url, migrations: IngestRepo.migrations)
                try #require(result.status == 0, "\(result)")
            }
            try Self.expectCleanSessions(database, url: url, poolSize: 4)
        }
    }

    @Test("a pooled load killed with SIGKILL leaves nothing that blocks the next run")
    func killedPooledLoad() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let file = try Self.scoreFile(scratch, "scores.csv")
        try await withTestDatabase { database in
            let pooler = try await Pooler(poolSize: 5, ignoreOptions: true)
            defer { pooler.stop() }
            try await IngestCLI.upgradeHead(database)
            // The test holds the load lock, so the load stops before its upsert holding its
            // schema and journal locks and its writers' transactions: killed there.
            let holder = try database.connect()
            try holder.execute("SELECT pg_advisory_lock(\(LoadLock.key))")
            let child = try IngestKillTests.Child(["ingest", "--no-progress", file, "--writers", "2", "--lock-timeout", "60"],
                                                  databaseURL: pooler.url(database))
            var waiting = false
            let deadline = Date().addingTimeInterval(30)
            while !waiting && Date() < deadline {
                waiting = try Self.advisoryLocks(database).contains { $0[2] == "false" }
                if !waiting { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(waiting, "the load was never seen waiting for the load lock")
            child.kill()
            #expect(await child.wait() != 0)
            try holder.execute("SELECT pg_advisory_unlock(\(LoadLock.key))")
            holder.close()

            let next = try await IngestCLI.ingest(database, [file, "--writers", "2", "--lock-timeout", "10", "--json"],
                                                  databaseURL: pooler.url(database), timeout: 60)
            #expect(next.status == 0, "\(next)\n\(pooler.log)")
            #expect(try next.report().inserted == 600, "\(next)")
            #expect(try database.column("SELECT state FROM greyoak_load ORDER BY id") == ["interrupted", "committed"])
            #expect(try Self.advisoryLocks(database).isEmpty)
            let upgrade = try await database.greyoak("db", "upgrade", "head", "--lock-timeout", "1", migrations: IngestRepo.migrations)
            #expect(upgrade.status == 0, "\(upgrade)")
        }
    }

    @Test("statement pooling is refused with a clear message")
    func statementPoolingRefused() async throws {
        try await withTestDatabase { database in
            let pooler = try await Pooler(mode: "statement")
            defer { pooler.stop() }
            let result = try await CLI.run(["db", "current"], databaseURL: pooler.url(database), migrations: IngestRepo.migrations)
            #expect(result.status == 7, "\(result)")
            #expect(result.stderr.contains("statement pooling mode") && result.stderr.contains("refuses"), "\(result)")
        }
    }
}
