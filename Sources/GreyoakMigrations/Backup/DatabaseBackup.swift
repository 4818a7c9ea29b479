import Foundation
import Logging
import GreyoakPostgres

/// `--backup DIR`: a `pg_dump --format=custom` of the database, taken before a migration runs.
///
/// The dump is written to `DIR/<database>-<from revision>-<UTC time>.dump`, created with
/// mode 0600 (it holds every row), and checked to be non-empty. Restore it with
/// `pg_restore --dbname=URL FILE` into an empty database.
public enum DatabaseBackup {
    /// Dumps the database `connection` is on.
    ///
    /// - Parameters:
    ///   - revision: The heads the database is at, for the file name (`base` when none).
    ///   - lockWaitSeconds: How long `pg_dump` may wait for each table's lock.
    /// - Returns: The path of the dump.
    /// - Throws: ``GreyoakError`` when the directory cannot be written, `pg_dump` is missing
    ///   or fails, or the dump is empty; the partial file is removed.
    public static func dump(_ connection: Connection, into directory: String, revision: [String], lockWaitSeconds: Double,
                            logger: Logger) throws -> String {
        let database = try connection.execute("SELECT current_database()")[0, 0] ?? "database"
        let major = (try connection.execute("SHOW server_version_num")[0, 0]).flatMap { Int($0) }.map { $0 / 10000 }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let name = "\(database)-\(revision.isEmpty ? "base" : revision.joined(separator: "+"))-\(formatter.string(from: Date())).dump"
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
        // Created here with 0600 before pg_dump opens it, so the rows are never readable by others.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw failed(String(cString: strerror(errno))) }
        close(descriptor)

        let tool = pgDump(serverMajor: major)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--format=custom", "--no-password", "--lock-wait-timeout=\(Int((lockWaitSeconds * 1000).rounded()))", "--file=\(path)"]
        process.environment = connection.settings.named("backup").childEnvironment()
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        logger.info("Backing up \(database) with \(tool) to \(path)")
        do {
            try process.run()
        } catch {
            unlink(path)
            throw failed("cannot run \(tool): \(error.localizedDescription) (scripts/setup installs postgresql-client)")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            unlink(path)
            throw failed("pg_dump exited \(process.terminationStatus): \(connection.settings.scrub(message.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else {
            unlink(path)
            throw failed("pg_dump wrote an empty file")
        }
        logger.info("Backup written to \(path) (\(size) bytes); restore it with pg_restore")
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
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let path = "\(directory)/pg_dump"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return "/usr/bin/pg_dump"
    }
}
