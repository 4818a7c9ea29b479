import Foundation
import Testing
import GreyoakTestSupport

/// `db upgrade --backup DIR` and `db downgrade --backup DIR`: a pg_dump before anything runs.
@Suite struct DBBackupTests {
    static let initial = MigrationsDirectory.initialRevision

    /// A fresh backup directory under the temporary directory.
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-backup-\(UUID().uuidString)").path
    }

    @Test func backupRestoresWithPgRestoreToTheSameRowsAndRevision() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let backups = Self.directory()
            defer { try? FileManager.default.removeItem(atPath: backups) }
            try await db.succeed("db", "upgrade", Self.initial, migrations: migrations.path)
            try db.query("INSERT INTO scores (ticker, scoring_date, mode, final_score, band) SELECT 'T' || g, '2024-10-09', 'Trader', g, 'Hold' FROM generate_series(1, 250) g")

            let result = try await db.greyoak("db", "upgrade", "head", "--backup", backups, migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            let files = try FileManager.default.contentsOfDirectory(atPath: backups)
            try #require(files.count == 1, "\(files)")
            let name = files[0]
            #expect(name.range(of: #"^\#(db.name)-\#(Self.initial)-\d{8}T\d{6}Z\.dump$"#, options: .regularExpression) != nil, "\(name)")
            let path = backups + "/" + name
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect(((attributes[.size] as? Int) ?? 0) > 0)
            #expect(result.stderr.contains("Backup written to \(path)"), "\(result)")
            // The dump comes before the first migration.
            let backupLine = try #require(result.stderr.range(of: "Backup written to"))
            let firstRun = try #require(result.stderr.range(of: "Running upgrade"))
            #expect(backupLine.lowerBound < firstRun.lowerBound)
            #expect(try db.column("SELECT notes FROM greyoak_migration_log WHERE operation = 'backup'") == [path])
            #expect(try db.versionRows() == ["3c8f1d2e5b22"])

            try await withTestDatabase { restored in
                let restore = Process()
                restore.executableURL = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin/pg_restore")
                restore.arguments = ["--no-owner", "--exit-on-error", "--dbname=\(restored.url)", path]
                try restore.run()
                restore.waitUntilExit()
                #expect(restore.terminationStatus == 0)
                #expect(try restored.versionRows() == [Self.initial])
                #expect(try restored.column("SELECT count(*)::text || ' ' || sum(final_score)::text FROM scores") == ["250 31375"])
                #expect(try !restored.columns(of: "scores").contains("confidence"))
            }
        }
    }

    @Test func anUnwritableDirectoryMeansNoMigration() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            try await db.succeed("db", "upgrade", Self.initial, migrations: migrations.path)
            // A directory inside a regular file cannot be made, not even by root.
            let file = Self.directory()
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
            defer { try? FileManager.default.removeItem(atPath: file) }

            for arguments in [["upgrade", "head"], ["downgrade", "base"]] {
                let result = try await CLI.run(["db"] + arguments + ["--backup", file + "/backups"], databaseURL: db.url, migrations: migrations.path)
                #expect(result.status == 1, "\(result)")
                #expect(result.stderr.contains("FAILED: cannot back up \(db.name) to \(file)/backups/"), "\(result)")
                #expect(result.stderr.contains("nothing was migrated"), "\(result)")
                #expect(!result.stderr.contains("Running"), "\(result)")
                #expect(try db.versionRows() == [Self.initial])
            }
            #expect(try db.column("SELECT count(*)::text FROM greyoak_migration_log WHERE operation = 'backup'") == ["0"])
        }
    }

    @Test func downgradeBacksUpToo() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let backups = Self.directory()
            defer { try? FileManager.default.removeItem(atPath: backups) }
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let result = try await db.greyoak("db", "downgrade", "-1", "--backup", backups, migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            let files = try FileManager.default.contentsOfDirectory(atPath: backups)
            #expect(files.count == 1 && files[0].hasPrefix("\(db.name)-3c8f1d2e5b22-"), "\(files)")
            #expect(try db.versionRows() == ["2b7e0c9d4a11"])
        }
    }
}
