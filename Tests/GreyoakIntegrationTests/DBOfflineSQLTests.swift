import Foundation
import Testing
import GreyoakTestSupport

/// `--sql`: the script an upgrade, downgrade or stamp would run, with no database reachable.
@Suite struct DBOfflineSQLTests {
    static let createVersionTable = """
        CREATE TABLE alembic_version (
            version_num VARCHAR(32) NOT NULL, \("")
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        );
        """

    func offline(_ arguments: String..., migrations: String) async throws -> CLIResult {
        let result = try await CLI.run(arguments, databaseURL: unreachableDatabaseURL, migrations: migrations)
        #expect(result.status == 0, "\(result)")
        return result
    }

    /// Asserts `parts` occur in `text` in this order.
    func expectInOrder(_ text: String, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        var rest = text[...]
        for part in parts {
            guard let range = rest.range(of: part) else {
                Issue.record("missing, or out of order: \(part)\nin:\n\(text)", sourceLocation: sourceLocation)
                return
            }
            rest = rest[range.upperBound...]
        }
    }

    @Test func upgradeHeadFromBase() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let result = try await offline("db", "upgrade", "head", "--sql", migrations: migrations.path)
        #expect(result.stdout.hasPrefix(Self.createVersionTable + "\n\nBEGIN;\n\n-- Running upgrade  -> 183eb85141bf, Initial schema with scores table\n"))
        expectInOrder(result.stdout, [
            "CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid');",
            "CREATE TABLE scores (",
            "CREATE INDEX idx_scores_mode ON scores (mode);",
            "INSERT INTO alembic_version (version_num) VALUES ('183eb85141bf');",
            "COMMIT;",
        ])
        #expect(result.stdout.hasSuffix("COMMIT;\n\n"))
    }

    /// The script is real SQL: run on an empty database it leaves what `upgrade head` leaves.
    @Test func upgradeScriptAppliesToARealDatabase() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let script = try await offline("db", "upgrade", "heads", "--sql", migrations: migrations.path).stdout
            try db.query(script)
            #expect(try db.versionRows() == ["3c8f1d2e5b22"])
            #expect(try db.tableExists("notes"))
            let current = try await db.succeed("db", "current", migrations: migrations.path)
            #expect(current.lines == ["3c8f1d2e5b22 (head)"])
            let verify = try await db.greyoak("db", "verify", migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)")
        }
    }

    @Test func upgradeFromARevision() async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        let result = try await offline("db", "upgrade", "183eb85141bf:head", "--sql", migrations: migrations.path)
        #expect(!result.stdout.contains("CREATE TABLE alembic_version"))
        #expect(!result.stdout.contains("band_enum"))
        expectInOrder(result.stdout, [
            "BEGIN;", "-- Running upgrade 183eb85141bf -> 2b7e0c9d4a11, Add confidence column",
            "ALTER TABLE scores ADD COLUMN confidence FLOAT;",
            "UPDATE alembic_version SET version_num='2b7e0c9d4a11' WHERE alembic_version.version_num = '183eb85141bf';",
            "COMMIT;", "BEGIN;", "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);",
            "UPDATE alembic_version SET version_num='3c8f1d2e5b22' WHERE alembic_version.version_num = '2b7e0c9d4a11';",
            "COMMIT;",
        ])
    }

    @Test func downgradeToBase() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let result = try await offline("db", "downgrade", "head:base", "--sql", migrations: migrations.path)
        #expect(!result.stdout.contains("CREATE TABLE alembic_version"))
        expectInOrder(result.stdout, [
            "BEGIN;", "-- Running downgrade 183eb85141bf -> , Initial schema with scores table",
            "DROP TABLE scores;", "DROP TYPE band_enum;",
            "DELETE FROM alembic_version WHERE alembic_version.version_num = '183eb85141bf';", "COMMIT;",
        ])
    }

    @Test func downgradeNeedsARange() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let result = try await CLI.run(["db", "downgrade", "base", "--sql"], databaseURL: unreachableDatabaseURL, migrations: migrations.path)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("FAILED: downgrade with --sql requires <fromrev>:<torev>"))
    }

    @Test func stampHead() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let result = try await offline("db", "stamp", "head", "--sql", migrations: migrations.path)
        #expect(result.stdout == "BEGIN;\n\n" + Self.createVersionTable
            + "\n\nINSERT INTO alembic_version (version_num) VALUES ('183eb85141bf');\n\nCOMMIT;\n\n")
    }

    @Test func stampBetweenRevisions() async throws {
        let migrations = try MigrationsDirectory.linearChain()
        defer { migrations.remove() }
        let result = try await offline("db", "stamp", "183eb85141bf:3c8f", "--sql", migrations: migrations.path)
        #expect(result.stdout == "BEGIN;\n\nUPDATE alembic_version SET version_num='3c8f1d2e5b22' WHERE alembic_version.version_num = '183eb85141bf';\n\nCOMMIT;\n\n")
    }

    @Test func nonTransactionalMigrationGetsNoTransaction() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        try migrations.write("4d9a00000001", parents: ["183eb85141bf"], message: "Index as_of", transactional: false,
                             upgrade: "CREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);")
        let result = try await offline("db", "upgrade", "183eb85141bf:head", "--sql", migrations: migrations.path)
        #expect(!result.stdout.contains("BEGIN;"))
        #expect(!result.stdout.contains("COMMIT;"))
        expectInOrder(result.stdout, [
            "-- Running upgrade 183eb85141bf -> 4d9a00000001, Index as_of",
            "CREATE INDEX CONCURRENTLY idx_scores_as_of ON scores (as_of);",
            "UPDATE alembic_version SET version_num='4d9a00000001' WHERE alembic_version.version_num = '183eb85141bf';",
        ])
    }
}
