import Foundation
import Logging
import GreyoakPostgres

/// `--backup DIR`: a `pg_dump --format=custom` of the database, taken before a migration runs.
///
/// The dump is written to `DIR/<database>-<from revision>-<UTC time>.dump`, created with
/// mode 0600 (it holds every row), and checked to be non-empty. Restore it with
/// `pg_restore --dbname=URL FILE` into an empty database.
///
/// With ``AgeRecipients`` the file is `....dump.age`: pg_dump writes into a pipe that `age`
/// reads, and age writes the 0600 file, so no unencrypted byte reaches the disk. Restore it
/// with `age -d -i KEYFILE FILE | pg_restore --dbname=URL`.
public enum DatabaseBackup {
    /// Dumps the database `connection` is on.
    ///
    /// - Parameters:
    ///   - revision: The heads the database is at, for the file name (`base` when none).
    ///   - lockWaitSeconds: How long `pg_dump` may wait for each table's lock.
    ///   - recipients: Encrypt to these with age (validated beforehand: ``AgeRecipients/validate()``).
    /// - Returns: The path of the dump.
    /// - Throws: ``GreyoakError`` when the directory cannot be written, `pg_dump` (or `age`)
    ///   is missing or fails, or the dump is empty; the partial file is removed.
    public static func dump(_ connection: Connection, into directory: String, revision: [String], lockWaitSeconds: Double,
                            recipients: AgeRecipients? = nil, logger: Logger) throws -> String {
        let database = try connection.execute("SELECT current_database()")[0, 0] ?? "database"
        let major = (try connection.execute("SHOW server_version_num")[0, 0]).flatMap { Int($0) }.map { $0 / 10000 }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let encrypted = recipients.map { !$0.isEmpty } ?? false
        let name = "\(database)-\(revision.isEmpty ? "base" : revision.joined(separator: "+"))-\(formatter.string(from: Date())).dump"
            + (encrypted ? ".age" : "")
        let path = (directory as NSString).appendingPathComponent(name)
        let failed = { (reason: String) in
            GreyoakError(.failure, "cannot back up \(database) to \(path): \(reason); nothing was migrated",
                         hint: "fix the backup directory (or leave out --backup) and run the same command again")
        }

        // Only the last component is created (0700): a mistyped parent should fail, not grow a tree.
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard mkdir(directory, 0o700) == 0 else { throw failed("cannot create \(directory): \(String(cString: strerror(errno)))") }
        } else if !isDirectory.boolValue {
            throw failed("\(directory) is not a directory")
        }
        // Created here with 0600 before pg_dump (or age) writes it, so the rows are never readable by others.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw failed(String(cString: strerror(errno))) }
        let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)

        let tool = pgDump(serverMajor: major)
        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: tool)
        dump.arguments = ["--format=custom", "--no-password", "--lock-wait-timeout=\(Int((lockWaitSeconds * 1000).rounded()))"]
        dump.environment = connection.settings.named("backup").childEnvironment()
        dump.standardInput = FileHandle.nullDevice
        logger.info("Backing up \(database) with \(tool)\(encrypted ? ", encrypted with age," : "") to \(path)")
        let outcome: [ChildOutcome]
        do {
            if let recipients, encrypted {
                let age = Process()
                age.executableURL = URL(fileURLWithPath: AgeRecipients.executable)
                age.arguments = ["--encrypt"] + recipients.arguments
                age.standardOutput = output
                outcome = try ChildOutcome.pipeline(dump, into: age)
            } else {
                dump.standardOutput = output
                outcome = try ChildOutcome.pipeline(dump, into: nil)
            }
        } catch {
            try? output.close()
            unlink(path)
            throw failed("cannot run \((error as? GreyoakError)?.message ?? "\(error)") (scripts/setup installs postgresql-client and age)")
        }
        try? output.close()
        if let failure = outcome.first(where: { $0.status != 0 }) {
            unlink(path)
            throw failed("\(failure.name) exited \(failure.status): \(connection.settings.scrub(failure.message))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else {
            unlink(path)
            throw failed("pg_dump wrote an empty file")
        }
        logger.info("Backup written to \(path) (\(size) bytes); restore it with \(encrypted ? "age -d -i KEYFILE FILE | pg_restore" : "pg_restore")")
        return path
    }

    /// The `pg_dump` of the server's major version when it is installed (Debian keeps each
    /// in `/usr/lib/postgresql/<major>/bin`), else the one on `PATH`: an older `pg_dump`
    /// refuses a newer server.
    static func pgDump(serverMajor: Int?) -> String {
        if let serverMajor {
            let path = "/usr/lib/postgresql/\(serverMajor)/bin/pg_dump"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return onPath("pg_dump")
    }

    /// The first executable `name` in the directories of `PATH`, else `/usr/bin/<name>`.
    static func onPath(_ name: String) -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        return "/usr/bin/\(name)"
    }
}
