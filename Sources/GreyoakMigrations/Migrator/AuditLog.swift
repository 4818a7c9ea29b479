import Foundation
import GreyoakPostgres

/// `greyoak_migration_log`: who applied or reverted which revision, when, how long it took,
/// and the SHA-256 of the file that ran. Alembic ignores tables it does not know.
enum AuditLog {
    static let table = GreyoakTables.migrationLog

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS greyoak_migration_log (
            id BIGSERIAL PRIMARY KEY,
            revision VARCHAR(32) NOT NULL,
            operation VARCHAR(16) NOT NULL,
            heads_before TEXT NOT NULL,
            heads_after TEXT NOT NULL,
            file_sha256 CHAR(64),
            db_role NAME NOT NULL DEFAULT current_user,
            os_user TEXT,
            client_host TEXT,
            client_addr INET DEFAULT inet_client_addr(),
            started_at TIMESTAMPTZ NOT NULL,
            duration_ms DOUBLE PRECISION NOT NULL,
            greyoak_version TEXT,
            lock_retries INTEGER NOT NULL DEFAULT 0,
            notes TEXT
        )
        """

    /// Columns added after the first release, for logs made by an older greyoak.
    static let addedColumnsSQL = """
        ALTER TABLE greyoak_migration_log
            ADD COLUMN IF NOT EXISTS lock_retries INTEGER NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS notes TEXT
        """

    /// Creates the table unless it exists (checked first: `IF NOT EXISTS` would send a
    /// NOTICE on every run).
    static func create(_ connection: Connection) throws {
        if try connection.execute("SELECT to_regclass('greyoak_migration_log') IS NULL")[0, 0] == "t" {
            try connection.execute(createSQL)
        } else if try connection.execute("""
            SELECT NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('greyoak_migration_log') AND attname = 'notes')
            """)[0, 0] == "t" {
            try connection.execute(addedColumnsSQL)
        }
    }

    static func record(_ connection: Connection, revision: String, operation: String, before: [String], after: [String],
                       checksum: String?, started: Date, lockRetries: Int = 0, notes: String? = nil) throws {
        let environment = ProcessInfo.processInfo.environment
        try connection.execute("""
            INSERT INTO greyoak_migration_log
                (revision, operation, heads_before, heads_after, file_sha256, os_user, client_host, started_at, duration_ms,
                 greyoak_version, lock_retries, notes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::float8, $10, $11::int, $12)
            """, [
                revision, operation, before.joined(separator: ","), after.joined(separator: ","), checksum,
                osUser(environment),
                ProcessInfo.processInfo.hostName,
                ISO8601DateFormatter().string(from: started),
                String(Date().timeIntervalSince(started) * 1000),
                Greyoak.version,
                String(lockRetries),
                notes,
            ])
    }

    static func osUser(_ environment: [String: String]) -> String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return environment["USER"] ?? environment["LOGNAME"] ?? String(getuid())
    }

    /// The checksum each revision had when it was last applied, where one was recorded.
    static func appliedChecksums(_ connection: Connection) throws -> [String: String] {
        guard try connection.execute("SELECT to_regclass('greyoak_migration_log') IS NOT NULL")[0, 0] == "t" else { return [:] }
        let rows = try connection.execute("""
            SELECT DISTINCT ON (revision) revision, file_sha256, operation
            FROM greyoak_migration_log WHERE operation IN ('upgrade', 'downgrade')
            ORDER BY revision, id DESC
            """).rows
        var result: [String: String] = [:]
        for row in rows where row[2] == "upgrade" {
            if let revision = row[0], let sum = row[1] { result[revision] = sum }
        }
        return result
    }
}

/// Facts about this build of greyoak.
public enum Greyoak {
    public static let version = "0.1.0"
}
