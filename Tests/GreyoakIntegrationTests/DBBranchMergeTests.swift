import Foundation
import Testing
import GreyoakTestSupport

/// A branch and its merge applied for real: `alembic_version` after every step.
///
///     aa0000000001 <- bb0000000001 <- bb0000000002 \
///                  <- cc0000000001 ----------------- dd0000000001 (merge)
@Suite struct DBBranchMergeTests {
    static let tables = ["t_root", "t_left1", "t_left2", "t_right1", "t_merged"]

    func tables(_ db: TestDatabase) throws -> [String] {
        try Self.tables.filter { try db.tableExists($0) }
    }

    @Test func upgradeAndDowngradeThroughABranchAndAMerge() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.branchAndMerge()
            defer { migrations.remove() }

            try await db.succeed("db", "upgrade", "aa00", migrations: migrations.path)
            #expect(try db.versionRows() == ["aa0000000001"])

            try await db.succeed("db", "upgrade", "bb0000000002", migrations: migrations.path)
            #expect(try db.versionRows() == ["bb0000000002"])

            // The other branch is INSERTed next to the first.
            let branch = try await db.succeed("db", "upgrade", "cc0000000001", migrations: migrations.path)
            #expect(branch.stderr == "INFO  [greyoak.migration] Running upgrade aa0000000001 -> cc0000000001, right one\n")
            #expect(try db.versionRows() == ["bb0000000002", "cc0000000001"])
            let current = try await db.succeed("db", "current", migrations: migrations.path)
            #expect(current.lines == ["bb0000000002", "cc0000000001"])
            let check = try await db.greyoak("db", "current", "--check-heads", migrations: migrations.path)
            #expect(check.status == 3)

            // The merge DELETEs one parent and UPDATEs the other.
            let merge = try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(merge.stderr == "INFO  [greyoak.migration] Running upgrade bb0000000002, cc0000000001 -> dd0000000001, merge heads\n")
            #expect(try db.versionRows() == ["dd0000000001"])
            #expect(try tables(db) == Self.tables)
            let history = try await db.succeed("db", "history", "-i", migrations: migrations.path)
            #expect(history.lines.first == "bb0000000002, cc0000000001 -> dd0000000001 (head) (current) (mergepoint), merge heads")

            // Unmerge: both parents come back.
            let unmerge = try await db.succeed("db", "downgrade", "cc0000000001", migrations: migrations.path)
            #expect(unmerge.stderr == "INFO  [greyoak.migration] Running downgrade dd0000000001 -> bb0000000002, cc0000000001, merge heads\n")
            #expect(try db.versionRows() == ["bb0000000002", "cc0000000001"])
            #expect(try !db.tableExists("t_merged"))

            // Down to the branch point: one branch row is deleted, the other updated.
            try await db.succeed("db", "downgrade", "aa0000000001", migrations: migrations.path)
            #expect(try db.versionRows() == ["aa0000000001"])
            #expect(try tables(db) == ["t_root"])

            try await db.succeed("db", "downgrade", "base", migrations: migrations.path)
            #expect(try db.versionRows() == [])
            #expect(try tables(db) == [])
        }
    }

    @Test func upgradeHeadsAppliesBothBranches() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.branchAndMerge(merged: false)
            defer { migrations.remove() }
            let result = try await db.succeed("db", "upgrade", "heads", migrations: migrations.path)
            #expect(result.stderr.split(separator: "\n").map(String.init) == [
                "INFO  [greyoak.migration] Running upgrade  -> aa0000000001, root",
                "INFO  [greyoak.migration] Running upgrade aa0000000001 -> cc0000000001, right one",
                "INFO  [greyoak.migration] Running upgrade aa0000000001 -> bb0000000001, left one",
                "INFO  [greyoak.migration] Running upgrade bb0000000001 -> bb0000000002, left two",
            ])
            #expect(try db.versionRows() == ["bb0000000002", "cc0000000001"])
            let check = try await db.greyoak("db", "current", "--check-heads", migrations: migrations.path)
            #expect(check.status == 0, "\(check)")
            #expect(check.lines == ["bb0000000002 (head)", "cc0000000001 (head)"])

            // Downgrading one branch leaves the other branch's row alone.
            try await db.succeed("db", "downgrade", "bb0000000001", migrations: migrations.path)
            #expect(try db.versionRows() == ["bb0000000001", "cc0000000001"])
            #expect(try tables(db) == ["t_root", "t_left1", "t_right1"])
        }
    }

    @Test func relativeStepsAtABranchPointAreAmbiguous() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.branchAndMerge()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "+1", migrations: migrations.path)
            let up = try await db.greyoak("db", "upgrade", "+1", migrations: migrations.path)
            #expect(up.status == 5, "\(up)")
            #expect(up.stderr.hasPrefix("FAILED: Relative revision +1 is ambiguous: aa0000000001 branches into bb0000000001, cc0000000001\n"))
            #expect(try db.versionRows() == ["aa0000000001"])

            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let down = try await db.greyoak("db", "downgrade", "-1", migrations: migrations.path)
            #expect(down.status == 5, "\(down)")
            #expect(down.stderr.hasPrefix("FAILED: Relative revision -1 is ambiguous: dd0000000001 merges bb0000000002, cc0000000001\n"))
            #expect(try db.versionRows() == ["dd0000000001"])
        }
    }
}
