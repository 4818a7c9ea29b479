import Foundation
import Testing
import GreyoakTestSupport

/// `upgrade`, `downgrade` and `stamp` against a real database, every target form.
@Suite struct DBChangeCommandTests {
    static let initial = MigrationsDirectory.initialRevision

    @Test func upgradeStepByStepWithEveryTargetForm() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }

            let plusOne = try await db.succeed("db", "upgrade", "+1", migrations: migrations.path)
            #expect(plusOne.stderr == "INFO  [greyoak.migration] Running upgrade  -> 183eb85141bf, Initial schema with scores table\n")
            #expect(try db.versionRows() == [Self.initial])
            #expect(try db.tableExists("scores"))
            #expect(try !db.columns(of: "scores").contains("confidence"))

            let prefix = try await db.succeed("db", "upgrade", "2b7e", migrations: migrations.path)
            #expect(prefix.stderr == "INFO  [greyoak.migration] Running upgrade 183eb85141bf -> 2b7e0c9d4a11, Add confidence column\n")
            #expect(try db.versionRows() == ["2b7e0c9d4a11"])
            #expect(try db.columns(of: "scores").last == "confidence")

            try await db.succeed("db", "upgrade", "3c8f1d2e5b22", migrations: migrations.path)
            #expect(try db.versionRows() == ["3c8f1d2e5b22"])
            #expect(try db.tableExists("notes"))

            let again = try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(again.stderr == "")
            #expect(try db.versionRows() == ["3c8f1d2e5b22"])
        }
    }

    @Test(arguments: ["head", "heads", "3c8f", "+3", "base+3"])
    func upgradeFromBaseToTheHead(_ target: String) async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let result = try await db.succeed("db", "upgrade", target, migrations: migrations.path)
            #expect(result.stderr.split(separator: "\n").map(String.init) == [
                "INFO  [greyoak.migration] Running upgrade  -> 183eb85141bf, Initial schema with scores table",
                "INFO  [greyoak.migration] Running upgrade 183eb85141bf -> 2b7e0c9d4a11, Add confidence column",
                "INFO  [greyoak.migration] Running upgrade 2b7e0c9d4a11 -> 3c8f1d2e5b22, Notes table",
            ])
            #expect(try db.versionRows() == ["3c8f1d2e5b22"])
            #expect(try db.tableExists("notes"))
        }
    }

    /// The version table is Alembic's, column for column, so Alembic can take over.
    @Test func versionTableIsAlembics() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(try db.query("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text
                FROM pg_attribute a WHERE a.attrelid = 'alembic_version'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                """) == [["version_num", "character varying(32)", "true"]])
            #expect(try db.query("""
                SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'alembic_version'::regclass
                """) == [["alembic_version_pkc", "PRIMARY KEY (version_num)"]])
            #expect(try db.column("SELECT count(*) FROM pg_index WHERE indrelid = 'alembic_version'::regclass") == ["1"])
        }
    }

    @Test func quietUpgradePrintsNothing() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let result = try await db.succeed("db", "upgrade", "head", "-q", migrations: migrations.path)
            #expect(result.stdout == "" && result.stderr == "")
            #expect(try db.versionRows() == ["3c8f1d2e5b22"])
        }
    }

    @Test func downgradeWithEveryTargetForm() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)

            let minusOne = try await db.succeed("db", "downgrade", "-1", migrations: migrations.path)
            #expect(minusOne.stderr == "INFO  [greyoak.migration] Running downgrade 3c8f1d2e5b22 -> 2b7e0c9d4a11, Notes table\n")
            #expect(try db.versionRows() == ["2b7e0c9d4a11"])
            #expect(try !db.tableExists("notes"))

            try await db.succeed("db", "downgrade", "183eb85141bf", migrations: migrations.path)
            #expect(try db.versionRows() == [Self.initial])
            #expect(try !db.columns(of: "scores").contains("confidence"))

            let toBase = try await db.succeed("db", "downgrade", "base", migrations: migrations.path)
            #expect(toBase.stderr == "INFO  [greyoak.migration] Running downgrade 183eb85141bf -> , Initial schema with scores table\n")
            // Going to base deletes the row; the table stays.
            #expect(try db.versionRows() == [])
            #expect(try !db.tableExists("scores"))
            #expect(try db.column("SELECT count(*) FROM pg_type WHERE typname = 'band_enum'") == ["0"])
        }
    }

    @Test func downgradeAllTheWayWithRelativeSteps() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try await db.succeed("db", "downgrade", "-3", migrations: migrations.path)
            #expect(try db.versionRows() == [])
            let tooFar = try await db.greyoak("db", "downgrade", "-1", migrations: migrations.path)
            #expect(tooFar.status == 2, "\(tooFar)")
            #expect(tooFar.stderr.hasPrefix("FAILED: Relative revision -1 didn't produce 1 migrations"))
        }
    }

    @Test func upgradeBelowAndDowngradeAboveAreUsageErrors() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "2b7e", migrations: migrations.path)

            let below = try await db.greyoak("db", "upgrade", "183eb85141bf", migrations: migrations.path)
            #expect(below.status == 2, "\(below)")
            #expect(below.stderr.hasPrefix("FAILED: Destination 183eb85141bf is not a valid upgrade target from current head(s) 2b7e0c9d4a11\n"))

            let above = try await db.greyoak("db", "downgrade", "head", migrations: migrations.path)
            #expect(above.status == 2, "\(above)")
            #expect(above.stderr.hasPrefix("FAILED: Destination 3c8f1d2e5b22 is not a valid downgrade target from current head(s) 2b7e0c9d4a11\n"))

            let unknown = try await db.greyoak("db", "upgrade", "ffffff", migrations: migrations.path)
            #expect(unknown.status == 2)
            #expect(unknown.stderr.hasPrefix("FAILED: Can't locate revision identified by 'ffffff'"))

            let noTarget = try await db.greyoak("db", "downgrade", migrations: migrations.path)
            #expect(noTarget.status == 2)
            #expect(try db.versionRows() == ["2b7e0c9d4a11"])
        }
    }

    @Test func upgradeHeadWithSeveralHeadsSuggestsHeads() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.branchAndMerge(merged: false)
            defer { migrations.remove() }
            let result = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            #expect(result.status == 5, "\(result)")
            #expect(result.stderr.hasPrefix("FAILED: Multiple head revisions are present for given argument 'head': bb0000000002, cc0000000001\n"))
            #expect(result.stderr.contains("'heads'"))
            #expect(try db.versionRows() == nil)
            #expect(try !db.tableExists("t_root"))
        }
    }

    // MARK: - stamp

    @Test func stampWritesTheVersionTableOnly() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let head = try await db.succeed("db", "stamp", "head", migrations: migrations.path)
            #expect(head.stderr == "INFO  [greyoak.migration] Stamping  -> 3c8f1d2e5b22\n")
            #expect(try db.versionRows() == ["3c8f1d2e5b22"])
            #expect(try !db.tableExists("scores"))
            #expect(try db.query("SELECT revision, operation, heads_before, heads_after, file_sha256 FROM greyoak_migration_log")
                == [["3c8f1d2e5b22", "stamp", "", "3c8f1d2e5b22", nil]])

            try await db.succeed("db", "stamp", "2b7e", migrations: migrations.path)
            #expect(try db.versionRows() == ["2b7e0c9d4a11"])
            try await db.succeed("db", "stamp", "base", migrations: migrations.path)
            #expect(try db.versionRows() == [])
        }
    }

    @Test func stampOverAnUnknownRevisionNeedsPurge() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try await db.succeed("db", "stamp", "head", migrations: migrations.path)
            try db.query("UPDATE alembic_version SET version_num = 'deadbeef0000'")

            let refused = try await db.greyoak("db", "stamp", "head", migrations: migrations.path)
            #expect(refused.status == 4, "\(refused)")
            #expect(refused.stderr.hasPrefix("FAILED: Can't locate revision identified by 'deadbeef0000'"))
            #expect(try db.versionRows() == ["deadbeef0000"])

            try await db.succeed("db", "stamp", "--purge", "head", migrations: migrations.path)
            #expect(try db.versionRows() == [Self.initial])
            let current = try await db.succeed("db", "current", migrations: migrations.path)
            #expect(current.lines == ["183eb85141bf (head)"])
        }
    }

    @Test func stampHeadsOfABranchedGraphThenUpgradeNothing() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.branchAndMerge(merged: false)
            defer { migrations.remove() }
            try await db.succeed("db", "stamp", "heads", migrations: migrations.path)
            #expect(try db.versionRows() == ["bb0000000002", "cc0000000001"])
            let upgrade = try await db.succeed("db", "upgrade", "heads", migrations: migrations.path)
            #expect(upgrade.stderr == "")
            #expect(try !db.tableExists("t_root"))
        }
    }
}
