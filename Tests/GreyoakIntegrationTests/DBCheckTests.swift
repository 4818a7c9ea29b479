import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// `greyoak db check`: the health check's verdicts and exit statuses, each from a real state
/// of a real database; and that checking changes nothing.
@Suite struct DBCheckTests {
    static let repository = MigrationsDirectory.repository()

    /// The `--json` object of a run, which must be the only thing on stdout.
    static func report(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return try #require(object as? [String: Any], "\(result)", sourceLocation: sourceLocation)
    }

    @Test func aFreshDatabaseIsBehindHeadAndTheCheckCreatesNothing() async throws {
        try await withTestDatabase { db in
            let result = try await db.greyoak("db", "check", "--json", migrations: Self.repository)
            #expect(result.status == 3, "\(result)")
            let report = try Self.report(result)
            #expect(report["status"] as? String == "behind head")
            #expect(report["reachable"] as? Bool == true)
            #expect(report["current"] as? [String] == [])
            #expect(try db.versionRows() == nil, "a check must not create alembic_version")
        }
    }

    @Test func atHeadIsHealthy() async throws {
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: Self.repository)
            let result = try await db.greyoak("db", "check", migrations: Self.repository)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.hasPrefix("ok: "), "\(result)")
            let json = try await db.greyoak("db", "check", "--json", migrations: Self.repository)
            let report = try Self.report(json)
            #expect(report["status"] as? String == "ok")
            #expect(report["exit_status"] as? Int == 0)
            #expect(report["current"] as? [String] == [MigrationsDirectory.initialRevision])
            #expect(report["heads"] as? [String] == [MigrationsDirectory.initialRevision])
            // Nothing of the check's session stays: no lock, no transaction.
            #expect(try db.column("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == ["0"])
        }
    }

    @Test func anUnreachableServerIsExitSeven() async throws {
        let result = try await CLI.run(["db", "check", "--json"], databaseURL: unreachableDatabaseURL, migrations: Self.repository)
        #expect(result.status == 7, "\(result)")
        let report = try Self.report(result)
        #expect(report["status"] as? String == "cannot connect")
        #expect(report["reachable"] as? Bool == false)
    }

    @Test func anUnknownRevisionIsExitFour() async throws {
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: Self.repository)
            try db.query("UPDATE alembic_version SET version_num = 'ffffffffffff'")
            let result = try await db.greyoak("db", "check", migrations: Self.repository)
            #expect(result.status == 4, "\(result)")
            #expect(result.stderr.contains("ffffffffffff"), "\(result)")
        }
    }

    @Test func aMigrationHoldingTheSchemaLockIsExitTwelveAndTheCheckDoesNotWait() async throws {
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: Self.repository)
            // A migration's session: the schema lock held exclusively, as Migrator holds it.
            let migration = try db.connect()
            try migration.execute("SELECT pg_advisory_lock(\(SchemaLock.key))")
            let result = try await db.greyoak("db", "check", "--json", migrations: Self.repository, timeout: 20)
            #expect(result.status == 12, "\(result)")
            let report = try Self.report(result)
            #expect(report["migration_running"] as? Bool == true)
            #expect((report["message"] as? String)?.contains("pid \(migration.backendPID)") == true, "\(result)")
            // A load's shared hold is not a migration.
            try migration.execute("SELECT pg_advisory_unlock(\(SchemaLock.key)), pg_advisory_lock_shared(\(SchemaLock.key))")
            #expect(try await db.greyoak("db", "check", migrations: Self.repository).status == 0)
            migration.close()
        }
    }

    @Test func anInterruptedLoadIsExitThirteenUntilRecovered() async throws {
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: Self.repository)
            // A load's journal row left `running` by a session that is gone (nobody holds its lock).
            try db.query("INSERT INTO greyoak_load (input, commit_method, writers) VALUES ('scores.csv', 'one transaction', 1)")
            let result = try await db.greyoak("db", "check", "--json", migrations: Self.repository)
            #expect(result.status == 13, "\(result)")
            #expect(try Self.report(result)["interrupted_loads"] as? Int == 1)
            try await db.succeed("db", "recover", migrations: Self.repository)
            #expect(try await db.greyoak("db", "check", migrations: Self.repository).status == 0)
        }
    }

    /// A probe goes where the application's DATABASE_URL goes: through PgBouncer in
    /// transaction mode (which refuses the `options` startup parameter), it still sees a
    /// migration's transaction-scoped schema lock, held on a session of the server.
    @Test func throughATransactionPoolerTheCheckSeesHeadAndARunningMigration() async throws {
        try await withTestDatabase { db in
            let pooler = try await Pooler()
            defer { pooler.stop() }
            try await db.succeed("db", "upgrade", "head", migrations: Self.repository)
            let pooled = try await CLI.run(["db", "check"], databaseURL: pooler.url(db), migrations: Self.repository)
            #expect(pooled.status == 0, "\(pooled)")

            let migration = try db.connect()
            try migration.execute("BEGIN; SELECT pg_advisory_xact_lock(\(SchemaLock.key))")
            let blocked = try await CLI.run(["db", "check", "--json"], databaseURL: pooler.url(db), migrations: Self.repository)
            #expect(blocked.status == 12, "\(blocked)")
            try migration.execute("COMMIT")
            migration.close()
        }
    }
}
