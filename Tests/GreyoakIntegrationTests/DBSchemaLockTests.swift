import Foundation
import Testing
import GreyoakTestSupport

/// The advisory lock that serialises concurrent `greyoak db upgrade` runs.
@Suite struct DBSchemaLockTests {
    /// "greyoak" in ASCII as a bigint (0x677265796F616B = 29117702755803499): the key
    /// SchemaLock documents, computed here independently of greyoak's code.
    static let lockKey: Int64 = "greyoak".utf8.reduce(0) { $0 << 8 | Int64($1) }

    /// A chain whose second migration sleeps 2 s, so two runs started together overlap.
    static func slowChain() throws -> MigrationsDirectory {
        let migrations = try MigrationsDirectory.copyOfRepository()
        try migrations.write("5a0000000001", parents: [MigrationsDirectory.initialRevision], message: "Slow",
                             upgrade: "SELECT pg_sleep(2);\nCREATE TABLE slow (id INT);", downgrade: "DROP TABLE slow;")
        try migrations.write("5a0000000002", parents: ["5a0000000001"], message: "After slow",
                             upgrade: "CREATE TABLE after_slow (id INT);", downgrade: "DROP TABLE after_slow;")
        return migrations
    }

    @Test func twoConcurrentUpgradesRunEachMigrationOnce() async throws {
        try await withTestDatabase { db in
            let migrations = try Self.slowChain()
            defer { migrations.remove() }
            async let first = db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            async let second = db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            let results = try await [first, second]
            for result in results { #expect(result.status == 0, "\(result)") }
            // One ran the migrations, the other waited for the lock and found nothing to do.
            #expect(results.filter { $0.stderr.contains("Running upgrade") }.count == 1, "\(results[0])\n\(results[1])")
            #expect(results.contains { $0.stderr.contains("waiting for the schema lock") }, "\(results[0])\n\(results[1])")

            #expect(try db.versionRows() == ["5a0000000002"])
            #expect(try db.query("""
                SELECT revision, count(*) FROM greyoak_migration_log WHERE operation = 'upgrade'
                GROUP BY revision ORDER BY revision
                """) == [["183eb85141bf", "1"], ["5a0000000001", "1"], ["5a0000000002", "1"]])
            // Nothing holds the lock afterwards.
            #expect(try db.column("""
                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """) == ["0"])
        }
    }

    /// CREATE INDEX CONCURRENTLY waits for every open transaction; a second upgrade waiting
    /// for the lock must not hold one, or the two would wait for each other.
    @Test func concurrentUpgradesWithCreateIndexConcurrentlyDoNotDeadlock() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try migrations.write("5b0000000001", parents: [MigrationsDirectory.initialRevision], message: "Slow index",
                                 transactional: false,
                                 upgrade: "SELECT pg_sleep(1);\nCREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);")
            try await db.succeed("db", "upgrade", "183eb85141bf", migrations: migrations.path)
            async let first = db.greyoak("db", "upgrade", "head", migrations: migrations.path, timeout: 30)
            async let second = db.greyoak("db", "upgrade", "head", migrations: migrations.path, timeout: 30)
            let results = try await [first, second]
            for result in results { #expect(result.status == 0, "\(result)") }
            #expect(try db.versionRows() == ["5b0000000001"])
            #expect(try db.column("SELECT indisvalid::text FROM pg_index WHERE indexrelid = to_regclass('idx_scores_as_of')") == ["true"])
        }
    }

    @Test func lockTimeoutWhileAnotherSessionHoldsTheLock() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let holder = try db.connect()
            let pid = try #require(holder.execute("SELECT pg_backend_pid()")[0, 0])
            try holder.execute("SELECT pg_advisory_lock(\(Self.lockKey))")

            let started = Date()
            let blocked = try await db.greyoak("db", "upgrade", "head", "--lock-timeout", "0.5", migrations: migrations.path)
            let waited = Date().timeIntervalSince(started)
            #expect(blocked.status == 6, "\(blocked)")
            #expect(blocked.stderr.contains("FAILED: could not take the schema lock (exclusive) within 0.5 s: held by "), "\(blocked)")
            #expect(blocked.stderr.contains("pid \(pid) (greyoak, ExclusiveLock)"), "\(blocked)")
            #expect(waited >= 0.5)
            #expect(try db.versionRows() == nil)
            #expect(try !db.tableExists("scores"))

            for command in [["stamp", "head"], ["downgrade", "base"]] {
                let result = try await CLI.run(["db"] + command + ["--lock-timeout", "0.2"], databaseURL: db.url, migrations: migrations.path)
                #expect(result.status == 6, "\(result)")
            }

            try holder.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
            holder.close()
            let free = try await db.greyoak("db", "upgrade", "head", "--lock-timeout", "0.5", migrations: migrations.path)
            #expect(free.status == 0, "\(free)")
            #expect(try db.versionRows() == [MigrationsDirectory.initialRevision])
        }
    }

    /// Advisory locks belong to one database: a holder in another database of the same
    /// server neither blocks an upgrade nor is named as holding the lock.
    @Test func holdersInOtherDatabasesAreNotNamed() async throws {
        try await withTestDatabase { db in
            try await withTestDatabase { other in
                let migrations = try MigrationsDirectory.copyOfRepository()
                defer { migrations.remove() }
                let elsewhere = try other.connect()
                try elsewhere.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
                let otherPID = try #require(elsewhere.execute("SELECT pg_backend_pid()")[0, 0])

                let unblocked = try await db.greyoak("db", "upgrade", "head", "--lock-timeout", "0.5", migrations: migrations.path)
                #expect(unblocked.status == 0, "\(unblocked)")

                let holder = try db.connect()
                try holder.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
                let pid = try #require(holder.execute("SELECT pg_backend_pid()")[0, 0])
                let blocked = try await db.greyoak("db", "downgrade", "base", "--lock-timeout", "0.3", migrations: migrations.path)
                #expect(blocked.status == 6, "\(blocked)")
                #expect(blocked.stderr.contains("within 0.3 s: held by pid \(pid) (greyoak, ExclusiveLock)\n"), "\(blocked)")
                #expect(!blocked.stderr.contains("pid \(otherPID) "), "names a session of another database:\n\(blocked)")
                holder.close()
                elsewhere.close()
            }
        }
    }

    /// A shared holder (an ingest) blocks a migration too.
    @Test func sharedHolderBlocksAMigration() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let holder = try db.connect()
            try holder.execute("SELECT pg_advisory_lock_shared(\(Self.lockKey))")
            let blocked = try await db.greyoak("db", "upgrade", "head", "--lock-timeout", "0.3", migrations: migrations.path)
            #expect(blocked.status == 6, "\(blocked)")
            #expect(blocked.stderr.contains("ShareLock"), "\(blocked)")
            holder.close()
        }
    }
}
