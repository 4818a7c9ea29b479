import Foundation
import Synchronization
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// Migrations wait for table locks at most --ddl-lock-timeout, retry, and name who blocks them.
@Suite struct DBLockWaitTests {
    static let initial = MigrationsDirectory.initialRevision

    /// The initial schema applied, plus a pending migration that needs ACCESS EXCLUSIVE on scores.
    static func prepare(_ db: TestDatabase, transactional: Bool = true, header: [String] = [],
                        upgrade: String = "ALTER TABLE scores ADD COLUMN confidence FLOAT;") async throws -> MigrationsDirectory {
        let migrations = try MigrationsDirectory.copyOfRepository()
        try migrations.write("6a0000000001", parents: [initial], message: "Add confidence", transactional: transactional,
                             header: header, upgrade: upgrade, downgrade: "ALTER TABLE scores DROP COLUMN confidence;")
        try await db.succeed("db", "upgrade", initial, migrations: migrations.path)
        try db.query("INSERT INTO scores (ticker, scoring_date, mode) SELECT 'T' || g, '2024-10-09', 'Trader' FROM generate_series(1, 100) g")
        return migrations
    }

    /// A `report-query` session that reads scores in a transaction kept open for `seconds`.
    static func startBlocker(_ db: TestDatabase, seconds: Double) async throws -> Blocker {
        try await Blocker.start(db, sql: "BEGIN; SELECT count(*) FROM scores; SELECT pg_sleep(\(seconds)); COMMIT",
                                held: "l.relation = 'scores'::regclass AND l.granted")
    }

    /// Readers of scores, one query after another until stopped, each with its own
    /// lock_timeout as a generous bound: a reader stuck behind a migration that waits without
    /// bound would wait for the blocker and fail with 55P03.
    final class Readers: Sendable {
        struct Counts { var finished = 0; var timedOut = 0; var other: [String] = []; var longestWait = 0.0 }
        let counts = Mutex(Counts())
        let stopped = Mutex(false)

        func run(_ db: TestDatabase, lockTimeout: String) -> Task<Void, any Error> {
            onThread { [self] in
                let connection = try db.connect()
                try connection.execute("SET application_name = 'reader'")
                try connection.execute("SET lock_timeout = '\(lockTimeout)'")
                while !stopped.withLock({ $0 }) {
                    let started = Date()
                    do {
                        try connection.execute("SELECT count(*) FROM scores")
                        counts.withLock { $0.finished += 1 }
                    } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable {
                        counts.withLock { $0.timedOut += 1 }
                    } catch {
                        counts.withLock { $0.other.append("\(error)") }
                    }
                    let waited = Date().timeIntervalSince(started)
                    counts.withLock { $0.longestWait = max($0.longestWait, waited) }
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
        }
    }

    @Test func migrationRetriesUntilTheBlockerEndsAndReadersWaitAtMostAboutTheTimeout() async throws {
        try await withTestDatabase { db in
            let migrations = try await Self.prepare(db)
            defer { migrations.remove() }
            // The blocker holds for 8 s, the readers allow themselves 4 s, the migration waits
            // 0.5 s per attempt: readers queued behind it pass long before their bound, and
            // would hit it if the migration waited for the blocker.
            let blocker = try await Self.startBlocker(db, seconds: 8)
            let readers = Readers()
            let reading = readers.run(db, lockTimeout: "4s")
            let result = try await db.greyoak("db", "upgrade", "head", "--ddl-lock-timeout", "500ms", migrations: migrations.path)
            let duringMigration = readers.counts.withLock { $0 }
            readers.stopped.withLock { $0 = true }
            try await reading.value
            try await blocker.task.value

            #expect(result.status == 0, "\(result)")
            #expect(result.stderr.contains("lock timeout (500ms) at \(migrations.path)/6a0000000001_add_confidence.sql:8, blocked by pid \(blocker.pid) (user "), "\(result)")
            #expect(result.stderr.contains("application \"report-query\""), "\(result)")
            #expect(result.stderr.contains("rolled back, retry 1 of 10 in "), "\(result)")
            #expect(try db.versionRows() == ["6a0000000001"])
            #expect(try db.columns(of: "scores").contains("confidence"))
            let retries = try #require(db.column("SELECT lock_retries FROM greyoak_migration_log WHERE revision = '6a0000000001'").first.flatMap(Int.init))
            #expect(retries >= 1)
            // The longest wait is measured for the message only: the bound is the server's.
            #expect(duringMigration.timedOut == 0,
                    "a reader waited past its 4 s bound behind the migration (longest: \(duringMigration.longestWait) s)")
            #expect(duringMigration.other.isEmpty, "\(duringMigration.other)")
            #expect(duringMigration.finished >= 2, "the readers were not served while the migration retried")
        }
    }

    @Test(arguments: [true, false]) func blockerThatStaysFailsCleanlyAndIsNamed(transactional: Bool) async throws {
        try await withTestDatabase { db in
            let migrations = try await Self.prepare(db, transactional: transactional)
            defer { migrations.remove() }
            let blocker = try await Self.startBlocker(db, seconds: 30)
            let result = try await db.greyoak("db", "upgrade", "head", "--ddl-lock-timeout", "300ms", "--ddl-retries", "2",
                                              migrations: migrations.path)
            try await blocker.end(db)

            #expect(result.status == 6, "\(result)")
            #expect(result.stderr.contains("canceling statement due to lock timeout (SQLSTATE 55P03)"), "\(result)")
            #expect(result.stderr.contains("gave up after 3 attempt(s)"), "\(result)")
            #expect(result.stderr.contains("blocked by pid \(blocker.pid) (user "), "\(result)")
            #expect(result.stderr.contains("application \"report-query\", active, query started "), "\(result)")
            #expect(result.stderr.contains("transaction open "), "\(result)")
            #expect(result.stderr.contains(transactional ? "The migration was rolled back: the database is still at \(Self.initial)."
                                                         : "Nothing of this migration was applied: the database is still at \(Self.initial)."), "\(result)")
            #expect(try db.versionRows() == [Self.initial])
            #expect(try !db.columns(of: "scores").contains("confidence"))
            let audit = try db.query("SELECT operation, lock_retries::text, notes LIKE '%report-query%' FROM greyoak_migration_log WHERE revision = '6a0000000001'")
            #expect(audit == [["lock-timeout", "2", "t"]])
        }
    }

    /// The bound is the session's default (a startup setting), so a RESET in the file keeps it,
    /// and the file's own Lock-Timeout: replaces --ddl-lock-timeout.
    @Test func resetInTheFileKeepsTheBoundAndTheHeaderSetsIt() async throws {
        try await withTestDatabase { db in
            let migrations = try await Self.prepare(db, header: ["Lock-Timeout: 400ms"],
                                                    upgrade: "RESET lock_timeout;\nALTER TABLE scores ADD COLUMN confidence FLOAT;")
            defer { migrations.remove() }
            let blocker = try await Self.startBlocker(db, seconds: 30)
            let result = try await db.greyoak("db", "upgrade", "head", "--ddl-lock-timeout", "300ms", "--ddl-retries", "1",
                                              migrations: migrations.path, timeout: 25)
            try await blocker.end(db)
            #expect(result.status == 6, "\(result)")
            #expect(result.stderr.contains("each waiting at most 400ms for a lock"), "\(result)")
            #expect(try db.versionRows() == [Self.initial])
        }
    }

    /// CREATE INDEX CONCURRENTLY waits for every older transaction; cancelled by the lock
    /// timeout it leaves an invalid index, which the retry drops before building it again.
    @Test func concurrentIndexRetriesAfterDroppingTheInvalidIndexItLeft() async throws {
        try await withTestDatabase { db in
            let migrations = try await Self.prepare(db, transactional: false,
                                                    upgrade: "CREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);")
            defer { migrations.remove() }
            let blocker = try await Self.startBlocker(db, seconds: 4)
            let result = try await db.greyoak("db", "upgrade", "head", "--ddl-lock-timeout", "500ms", migrations: migrations.path)
            try await blocker.task.value
            #expect(result.status == 0, "\(result)")
            #expect(result.stderr.contains("statement cancelled, retry 1 of 10"), "\(result)")
            #expect(result.stderr.contains("dropping the invalid index idx_scores_as_of that the timed-out attempt left"), "\(result)")
            #expect(try db.versionRows() == ["6a0000000001"])
            #expect(try db.column("SELECT indisvalid::text FROM pg_index WHERE indexrelid = to_regclass('idx_scores_as_of')") == ["true"])
        }
    }

    /// greyoak's lock_timeout joins the user's own startup options rather than replacing them.
    @Test func userStartupOptionsAreKept() async throws {
        try await withTestDatabase { db in
            let migrations = try await Self.prepare(db, upgrade: """
                CREATE TABLE settings_seen AS SELECT current_setting('work_mem') AS work_mem, current_setting('lock_timeout') AS lock_timeout,
                       (SELECT reset_val FROM pg_settings WHERE name = 'lock_timeout') AS session_default;
                """)
            defer { migrations.remove() }
            let url = db.url + (db.url.contains("?") ? "&" : "?") + "options=-c%20work_mem%3D12MB"
            let result = try await CLI.run(["db", "upgrade", "head", "--ddl-lock-timeout", "1500ms"], databaseURL: url, migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(try db.query("SELECT work_mem, lock_timeout, session_default FROM settings_seen") == [["12MB", "1500ms", "1500"]])
        }
    }

    /// The migration itself records who is connected while it runs (the watcher connects
    /// as the run starts, so the migration sleeps a moment first).
    @Test func migratorSessionsSayWhatTheyAre() async throws {
        try await withTestDatabase { db in
            let migrations = try await Self.prepare(db, upgrade: """
                SELECT pg_sleep(0.5);
                CREATE TABLE seen AS SELECT application_name, pid = pg_backend_pid() AS me FROM pg_stat_activity
                WHERE datname = current_database();
                """)
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(try db.column("SELECT application_name FROM seen WHERE me") == ["greyoak migrator"])
            #expect(try db.column("SELECT application_name FROM seen WHERE NOT me").contains("greyoak lock watcher"))
        }
    }
}
