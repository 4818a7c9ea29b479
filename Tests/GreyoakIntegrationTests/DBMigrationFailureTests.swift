import Foundation
import Testing
import GreyoakTestSupport

/// Migrations that fail, and migrations that must run outside a transaction.
@Suite struct DBMigrationFailureTests {
    static let initial = MigrationsDirectory.initialRevision

    @Test func failingStatementRollsTheMigrationBack() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            // Lines: the header is 1-6, `-- migrate:upgrade` 7, the statements 8 and 9.
            let path = try migrations.write("ee0000000001", parents: [Self.initial], message: "Breaks",
                                            upgrade: "CREATE TABLE t_first (id INT);\nINSERT INTO no_such_table VALUES (1);",
                                            downgrade: "DROP TABLE t_first;")
            let result = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.status == 1, "\(result)")
            #expect(result.stdout == "")
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first == "INFO  [greyoak.migration] Running upgrade  -> 183eb85141bf, Initial schema with scores table")
            #expect(lines.contains("FAILED: upgrade ee0000000001 failed at \(path):9, statement 2 of 2:"), "\(result)")
            #expect(lines.contains("  INSERT INTO no_such_table VALUES (1)"), "\(result)")
            #expect(result.stderr.contains("relation \"no_such_table\" does not exist (SQLSTATE 42P01)"))
            #expect(lines.contains("The migration was rolled back: the database is still at 183eb85141bf."), "\(result)")

            // Each migration commits on its own: the first one stays, the failing one left nothing.
            #expect(try db.versionRows() == [Self.initial])
            #expect(try db.tableExists("scores"))
            #expect(try !db.tableExists("t_first"))
            #expect(try db.column("SELECT revision FROM greyoak_migration_log ORDER BY id") == [Self.initial])

            let current = try await db.succeed("db", "current", migrations: migrations.path)
            #expect(current.lines == ["183eb85141bf"])
        }
    }

    @Test func failureOnTheFirstMigrationLeavesNoVersionTable() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory()
            defer { migrations.remove() }
            try migrations.write("ee0000000001", message: "Breaks at once",
                                 upgrade: "CREATE TABLE t_first (id INT);\nSELECT 1/0;")
            let result = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("division by zero (SQLSTATE 22012)"))
            #expect(result.stderr.contains("The migration was rolled back: the database is still at <base>."))
            #expect(try db.versionRows() == nil)
            #expect(try !db.tableExists("t_first"))
            #expect(try !db.tableExists("greyoak_migration_log"))
        }
    }

    @Test func failingDowngradeKeepsTheRevision() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let path = try migrations.write("ee0000000001", parents: [Self.initial], message: "Bad downgrade",
                                            upgrade: "CREATE TABLE t_first (id INT);",
                                            downgrade: "DROP TABLE t_first;\nDROP TABLE no_such_table;")
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let result = try await db.greyoak("db", "downgrade", "base", migrations: migrations.path)
            #expect(result.status == 1, "\(result)")
            // Lines: header 1-6, upgrade marker 7, statement 8, blank 9, downgrade marker 10, then 11 and 12.
            #expect(result.stderr.contains("FAILED: downgrade ee0000000001 failed at \(path):12, statement 2 of 2:"), "\(result)")
            #expect(try db.versionRows() == ["ee0000000001"])
            #expect(try db.tableExists("t_first"))
        }
    }

    @Test func nonTransactionalMigrationRunsCreateIndexConcurrently() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try migrations.write("4d9a00000001", parents: [Self.initial], message: "Index as_of", transactional: false,
                                 upgrade: "CREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);",
                                 downgrade: "DROP INDEX CONCURRENTLY idx_scores_as_of;")
            let result = try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.stderr.contains("Running upgrade 183eb85141bf -> 4d9a00000001, Index as_of"))
            #expect(try db.versionRows() == ["4d9a00000001"])
            #expect(try db.column("SELECT indisvalid::text FROM pg_index WHERE indexrelid = to_regclass('idx_scores_as_of')") == ["true"])

            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")

            try await db.succeed("db", "downgrade", "-1", migrations: migrations.path)
            #expect(try db.versionRows() == [Self.initial])
            #expect(try !db.tableExists("idx_scores_as_of"))
        }
    }

    /// The same statement in a transactional migration cannot run: PostgreSQL refuses
    /// CREATE INDEX CONCURRENTLY inside a transaction block.
    @Test func concurrentIndexNeedsTransactionalNo() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try migrations.write("4d9a00000001", parents: [Self.initial], message: "Index as_of",
                                 upgrade: "CREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);")
            let result = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"))
            #expect(try db.versionRows() == [Self.initial])
        }
    }

    @Test func nonTransactionalFailureSaysWhatStayedApplied() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try migrations.write("4d9a00000001", parents: [Self.initial], message: "Half done", transactional: false,
                                 upgrade: "CREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);\nCREATE INDEX CONCURRENTLY idx_bad ON no_such_table (x);")
            try await db.succeed("db", "upgrade", "183eb85141bf", migrations: migrations.path)
            let result = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("This migration is non-transactional: its first 1 statement(s) stay applied, and alembic_version still says 183eb85141bf."), "\(result)")
            #expect(try db.versionRows() == [Self.initial])
            #expect(try db.tableExists("idx_scores_as_of"))
        }
    }

    /// A section whose only content is a block comment (an irreversible migration saying so)
    /// has nothing to run; it must not send the comment alone, which the server answers
    /// with an empty-query result.
    @Test func sectionWithOnlyABlockCommentIsANoOp() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try migrations.write("ee0000000001", parents: [Self.initial], message: "Irreversible",
                                 upgrade: "CREATE TABLE t_first (id INT);", downgrade: "/* irreversible: nothing to undo */")
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let result = try await db.greyoak("db", "downgrade", "-1", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(try db.versionRows() == [Self.initial])
        }
    }

    @Test func malformedMigrationFileIsNamedWithItsLine() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let path = migrations.path + "/bad.sql"
        try "-- Bad\n--\n-- Revision ID: not-an-id\n-- migrate:upgrade\n-- migrate:downgrade\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await CLI.run(["db", "history"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr == "FAILED: \(path):3: revision id \"not-an-id\" must be 1-32 letters, digits or _\n")
    }

    @Test func missingMigrationsDirectory() async throws {
        let result = try await CLI.run(["db", "heads"], databaseURL: unreachableDatabaseURL, migrations: "/nonexistent/greyoak")
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("FAILED: /nonexistent/greyoak: is not a directory of migrations"))
    }
}
