import Foundation
import Testing
import GreyoakTestSupport

/// `db upgrade --backup DIR --backup-recipient KEY`: pg_dump streamed through age, restored
/// with `age -d -i KEY | pg_restore`; a recipient age refuses stops the upgrade first.
@Suite struct DBEncryptedBackupTests {
    static let initial = MigrationsDirectory.initialRevision

    /// A fresh age identity in `directory`: its key file and its public key.
    static func identity(in directory: String, _ name: String) async throws -> (keyFile: String, publicKey: String) {
        let keyFile = directory + "/" + name
        _ = try await PrivateCluster.shell(["age-keygen", "-o", keyFile])
        let publicKey = try await PrivateCluster.shell(["age-keygen", "-y", keyFile]).trimmingCharacters(in: .whitespacesAndNewlines)
        return (keyFile, publicKey)
    }

    /// `age -d -i keyFile file | pg_restore --dbname=url`, as the README says; the exit statuses.
    static func restore(_ file: String, keyFile: String, into url: String) throws -> (age: Int32, restore: Int32) {
        let age = Process(), restore = Process()
        age.executableURL = URL(fileURLWithPath: "/usr/bin/age")
        age.arguments = ["-d", "-i", keyFile, file]
        restore.executableURL = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin/pg_restore")
        restore.arguments = ["--no-owner", "--exit-on-error", "--dbname=\(url)"]
        let pipe = Pipe()
        age.standardOutput = pipe
        restore.standardInput = pipe
        try age.run()
        try restore.run()
        try pipe.fileHandleForWriting.close()
        try pipe.fileHandleForReading.close()
        age.waitUntilExit()
        restore.waitUntilExit()
        return (age.terminationStatus, restore.terminationStatus)
    }

    @Test func anEncryptedBackupRestoresForEveryRecipient() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let first = try await Self.identity(in: scratch.path, "first.key")
            let second = try await Self.identity(in: scratch.path, "second.key")
            let recipientsFile = try scratch.write("recipients.txt", "# the second operator\n\(second.publicKey)\n")
            try await db.succeed("db", "upgrade", Self.initial, migrations: migrations.path)
            try db.query("INSERT INTO scores (ticker, scoring_date, mode, final_score, band) SELECT 'T' || g, '2024-10-09', 'Trader', g, 'Hold' FROM generate_series(1, 250) g")

            let backups = scratch.file("backups")
            let result = try await db.greyoak("db", "upgrade", "head", "--backup", backups, "--backup-recipient", first.publicKey,
                                              "--backup-recipients-file", recipientsFile, migrations: migrations.path)
            #expect(result.status == 0, "\(result)")
            let files = try FileManager.default.contentsOfDirectory(atPath: backups)
            try #require(files.count == 1, "\(files)")
            #expect(files[0].hasSuffix(".dump.age"), "\(files)")
            let path = backups + "/" + files[0]
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
            // age's armour-less format, not pg_dump's custom format ("PGDMP").
            let head = try #require(FileHandle(forReadingAtPath: path)).readData(ofLength: 21)
            #expect(String(decoding: head, as: UTF8.self) == "age-encryption.org/v1")

            for key in [first.keyFile, second.keyFile] {
                try await withTestDatabase(holdingSlot: false) { restored in
                    let statuses = try Self.restore(path, keyFile: key, into: restored.url)
                    #expect(statuses.age == 0 && statuses.restore == 0, "\(statuses)")
                    #expect(try restored.versionRows() == [Self.initial])
                    #expect(try restored.column("SELECT count(*)::text FROM scores") == ["250"])
                }
            }
        }
    }

    @Test(arguments: [["--backup-recipient", "age1notakey"], ["--backup-recipients-file", "/nonexistent/recipients.txt"],
                      ["--backup-recipient", "ssh-ed25519 AAAAnotbase64"]])
    func aRecipientAgeRefusesStopsTheUpgradeBeforeAnythingChanges(_ recipient: [String]) async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            try await db.succeed("db", "upgrade", Self.initial, migrations: migrations.path)
            let backups = scratch.file("backups")
            let result = try await CLI.run(["db", "upgrade", "head", "--backup", backups] + recipient, databaseURL: db.url,
                                           migrations: migrations.path)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("nothing was done"), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: backups))
            #expect(try db.versionRows() == [Self.initial])
            #expect(try db.column("SELECT count(*)::text FROM greyoak_migration_log") == ["1"])
        }
    }

    @Test func aFailedDumpLeavesNoEncryptedFile() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.linearChain()
            defer { migrations.remove() }
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let key = try await Self.identity(in: scratch.path, "key")
            try await db.succeed("db", "upgrade", Self.initial, migrations: migrations.path)
            // pg_dump cannot get its lock on scores within --lock-timeout: age has begun
            // writing by then, and its output must go.
            let blocker = try db.connect()
            try blocker.execute("BEGIN; LOCK TABLE scores IN ACCESS EXCLUSIVE MODE")
            let backups = scratch.file("backups")
            let result = try await db.greyoak("db", "upgrade", "head", "--lock-timeout", "1", "--backup", backups,
                                              "--backup-recipient", key.publicKey, migrations: migrations.path)
            blocker.close()
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("pg_dump exited"), "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: backups) == [])
            #expect(try db.versionRows() == [Self.initial])
        }
    }

    @Test func recipientsWithoutABackupDirectoryAreAUsageError() async throws {
        let result = try await CLI.run(["db", "upgrade", "head", "--backup-recipient", "age1x"], databaseURL: unreachableDatabaseURL,
                                       migrations: MigrationsDirectory.repository())
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("need --backup DIR"), "\(result)")
    }
}
