import Foundation
import Testing
import GreyoakTestSupport

/// `current`, `history`, `show`, `heads`, `branches` through the greyoak binary.
@Suite struct DBInspectCommandTests {
    static let initial = MigrationsDirectory.initialRevision

    @Test func currentAtBasePrintsNothingAndCreatesNoTable() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let result = try await db.greyoak("db", "current", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "")
            #expect(try db.versionRows() == nil)
        }
    }

    @Test func currentAtHead() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let upgrade = try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            #expect(upgrade.stdout == "")
            #expect(upgrade.stderr == "INFO  [greyoak.migration] Running upgrade  -> 183eb85141bf, Initial schema with scores table\n")
            #expect(try db.versionRows() == [Self.initial])

            let current = try await db.greyoak("db", "current", migrations: migrations.path)
            #expect(current.status == 0)
            #expect(current.lines == ["183eb85141bf (head)"])
        }
    }

    @Test func currentVerbosePrintsTheTargetAndTheBlock() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let atBase = try await db.greyoak("db", "current", "-v", migrations: migrations.path)
            #expect(atBase.lines == ["Current revision(s) for \(db.url):"])

            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let atHead = try await db.greyoak("db", "current", "--verbose", migrations: migrations.path)
            #expect(atHead.status == 0)
            #expect(atHead.lines.prefix(8) == [
                "Current revision(s) for \(db.url):",
                "Rev: 183eb85141bf (head)",
                "Parent: <base>",
                "Path: \(migrations.path)/\(MigrationsDirectory.initialFile)",
                "",
                "    Initial schema with scores table",
                "    ",
                "    Revision ID: 183eb85141bf",
            ])
        }
    }

    @Test func checkHeadsFailsAtBaseAndPassesAtHead() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let atBase = try await db.greyoak("db", "current", "--check-heads", migrations: migrations.path)
            #expect(atBase.status == 3, "\(atBase)")
            #expect(atBase.stdout == "")
            #expect(atBase.stderr == """
                FAILED: the database is at <base> (no revision), not at head 183eb85141bf
                  hint: run `greyoak db upgrade head`

                """)

            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let atHead = try await db.greyoak("db", "current", "--check-heads", migrations: migrations.path)
            #expect(atHead.status == 0, "\(atHead)")
            #expect(atHead.lines == ["183eb85141bf (head)"])
        }
    }

    @Test func checkHeadsFailsBehindHead() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "2b7e", migrations: migrations.path)
            let result = try await db.greyoak("db", "current", "--check-heads", migrations: migrations.path)
            #expect(result.status == 3)
            #expect(result.lines == ["2b7e0c9d4a11"])
            #expect(result.stderr.hasPrefix("FAILED: the database is at 2b7e0c9d4a11, not at head 3c8f1d2e5b22\n"))
        }
    }

    @Test func unknownRevisionInTheVersionTable() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try db.query("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
            try db.query("INSERT INTO alembic_version VALUES ('deadbeef0000')")
            for command in [["current"], ["current", "--check-heads"], ["upgrade", "head"], ["downgrade", "base"], ["history", "-i"]] {
                let result = try await CLI.run(["db"] + command, databaseURL: db.url, migrations: migrations.path)
                #expect(result.status == 4, "\(result)")
                #expect(result.stderr.hasPrefix("FAILED: Can't locate revision identified by 'deadbeef0000'\n"), "\(result)")
                #expect(result.stdout == "")
            }
            #expect(try db.versionRows() == ["deadbeef0000"])
            #expect(try !db.tableExists("scores"))
        }
    }

    // MARK: - history

    static let chainHistory = [
        "2b7e0c9d4a11 -> 3c8f1d2e5b22 (head), Notes table",
        "183eb85141bf -> 2b7e0c9d4a11, Add confidence column",
        "<base> -> 183eb85141bf, Initial schema with scores table",
    ]

    @Test func historyOfTheRepositoryNeedsNoDatabase() async throws {
        let result = try await CLI.run(["db", "history"], databaseURL: unreachableDatabaseURL,
                                       migrations: MigrationsDirectory.repository())
        #expect(result.status == 0, "\(result)")
        #expect(result.lines == ["<base> -> 183eb85141bf (head), Initial schema with scores table"])
    }

    @Test(arguments: [
        ("base:head", [0, 1, 2]),
        ("2b7e:", [0, 1]),
        (":2b7e0c9d4a11", [1, 2]),
        ("183e:2b7e", [1, 2]),
        ("3c8f1d2e5b22:3c8f1d2e5b22", [0]),
        ("base:183eb85141bf", [2]),
        ("head-1:", [0, 1]),
    ] as [(String, [Int])])
    func historyRanges(_ range: String, _ indexes: [Int]) async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "history", "-r", range], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 0, "\(result)")
        #expect(result.lines == indexes.map { Self.chainHistory[$0] })
    }

    @Test func historyRangesRelativeToTheDatabase() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "2b7e", migrations: migrations.path)
            let fromCurrent = try await db.greyoak("db", "history", "-r", "current:", migrations: migrations.path)
            #expect(fromCurrent.lines == Array(Self.chainHistory[0...1]), "\(fromCurrent)")
            let toCurrent = try await db.greyoak("db", "history", "--rev-range=-1:current", migrations: migrations.path)
            #expect(toCurrent.lines == Array(Self.chainHistory[1...2]), "\(toCurrent)")
        }
    }

    /// Alembic's spelling, `history -r -1:current`, which `--help` gives as an example
    /// (`-2:current`): the range value starts with `-` and must not be taken for an option.
    @Test func historyRangeStartingWithMinusAfterShortOption() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "2b7e", migrations: migrations.path)
            let result = try await db.greyoak("db", "history", "-r", "-1:current", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == Array(Self.chainHistory[1...2]))
        }
    }

    @Test func historyIndicatesTheCurrentRevision() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", "+2", migrations: migrations.path)
            let result = try await db.greyoak("db", "history", "-i", migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == [
                Self.chainHistory[0],
                "183eb85141bf -> 2b7e0c9d4a11 (current), Add confidence column",
                Self.chainHistory[2],
            ])
        }
    }

    @Test func historyVerbosePrintsBlocksNewestFirst() async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "history", "-v"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.filter { $0.hasPrefix("Rev: ") } == ["Rev: 3c8f1d2e5b22 (head)", "Rev: 2b7e0c9d4a11", "Rev: 183eb85141bf"])
        #expect(result.lines.prefix(11) == [
            "Rev: 3c8f1d2e5b22 (head)",
            "Parent: 2b7e0c9d4a11",
            "Path: \(migrations.path)/3c8f1d2e5b22_notes_table.sql",
            "",
            "    Notes table",
            "    ",
            "    Revision ID: 3c8f1d2e5b22",
            "    Revises: 2b7e0c9d4a11",
            "    Create Date: 2025-11-02 09:15:00.000000",
            "",
            "Rev: 2b7e0c9d4a11",
        ])
    }

    @Test(arguments: ["nocolon", "ffff:"])
    func historyBadRange(_ range: String) async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "history", "-r", range], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 2, "\(result)")
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("FAILED: "))
    }

    @Test func usageErrorsExitTwo() async throws {
        let migrations = MigrationsDirectory.repository()
        let missing = try await CLI.run(["db", "upgrade"], databaseURL: unreachableDatabaseURL, migrations: migrations)
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("Missing expected argument '<revision>'"))
        let unknown = try await CLI.run(["db", "frobnicate"], databaseURL: unreachableDatabaseURL, migrations: migrations)
        #expect(unknown.status == 2, "\(unknown)")
        let version = try await CLI.run(["--version"], databaseURL: unreachableDatabaseURL)
        #expect(version.status == 0)
        #expect(version.lines == ["0.1.0"])
    }

    // MARK: - show, heads, branches

    @Test(arguments: ["2b7e0c9d4a11", "2b7e", "head-1", "183eb85141bf+1"])
    func showPrintsTheBlock(_ target: String) async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "show", target], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == """
            Rev: 2b7e0c9d4a11
            Parent: 183eb85141bf
            Path: \(migrations.path)/2b7e0c9d4a11_add_confidence_column.sql

                Add confidence column
                \("")
                Revision ID: 2b7e0c9d4a11
                Revises: 183eb85141bf
                Create Date: 2025-11-02 09:15:00.000000


            """)
    }

    @Test(arguments: [
        ("base", "FAILED: 'base' names no revision (base)"),
        ("ffff", "FAILED: Can't locate revision identified by 'ffff'"),
        ("2b", "FAILED: Can't locate revision identified by '2b'"),
    ] as [(String, String)])
    func showErrors(_ target: String, _ firstLine: String) async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "show", target], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.split(separator: "\n").first.map(String.init) == firstLine)
    }

    @Test func showAmbiguousPrefixListsBoth() async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        try migrations.write("2b7e99990000", parents: ["3c8f1d2e5b22"], message: "Same prefix", upgrade: "SELECT 1;")
        let result = try await CLI.run(["db", "show", "2b7e"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("FAILED: Multiple revisions start with '2b7e': 2b7e0c9d4a11, 2b7e99990000\n"))
    }

    @Test func headsAndBranchesOfABranchedGraph() async throws {
        let migrations = try MigrationsDirectory.branchAndMerge(merged: false)
        defer { migrations.remove() }
        let heads = try await CLI.run(["db", "heads"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(heads.status == 0, "\(heads)")
        #expect(heads.lines == ["bb0000000002 (head)", "cc0000000001 (head)"])

        let branches = try await CLI.run(["db", "branches"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(branches.status == 0, "\(branches)")
        #expect(branches.lines == [
            "aa0000000001 (branchpoint)",
            "             -> bb0000000001",
            "             -> cc0000000001 (head)",
            "",
        ])

        let verbose = try await CLI.run(["db", "branches", "-v"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(verbose.lines.first == "Rev: aa0000000001 (branchpoint)")
        #expect(verbose.lines.contains("Branches into: bb0000000001, cc0000000001"))
        #expect(verbose.lines.suffix(3) == ["             -> bb0000000001, left one", "             -> cc0000000001 (head), right one", ""])

        let history = try await CLI.run(["db", "history"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(history.lines == [
            "bb0000000001 -> bb0000000002 (head), left two",
            "aa0000000001 -> bb0000000001, left one",
            "aa0000000001 -> cc0000000001 (head), right one",
            "<base> -> aa0000000001 (branchpoint), root",
        ])
    }

    @Test func headsAndHistoryOfAMergedGraph() async throws {
        let migrations = try MigrationsDirectory.branchAndMerge()
        defer { migrations.remove() }
        let heads = try await CLI.run(["db", "heads", "-v"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(heads.lines.prefix(3) == [
            "Rev: dd0000000001 (head) (mergepoint)", "Merges: bb0000000002, cc0000000001",
            "Path: \(migrations.path)/dd0000000001_merge_heads.sql",
        ])
        let history = try await CLI.run(["db", "history"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(history.lines.first == "bb0000000002, cc0000000001 -> dd0000000001 (head) (mergepoint), merge heads")
        #expect(history.lines.count == 5)
    }
}
