import Foundation
import GreyoakPostgres

/// `greyoak_ingest_log`: the files `greyoak ingest --each-file` committed, by SHA-256, so
/// that the same command run again skips them and resumes where a backfill stopped.
/// Bookkeeping beside `alembic_version`, like the migration log: `verify` leaves it out.
enum IngestLedger {
    static let table = GreyoakTables.ingestLog

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS greyoak_ingest_log (
            id BIGSERIAL PRIMARY KEY,
            file TEXT NOT NULL,
            file_sha256 CHAR(64) NOT NULL,
            bytes BIGINT NOT NULL,
            rows_read BIGINT NOT NULL,
            inserted BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            unchanged BIGINT NOT NULL,
            rejected BIGINT NOT NULL,
            db_role NAME NOT NULL DEFAULT current_user,
            committed_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """

    /// Creates the table unless it exists (checked first: `IF NOT EXISTS` would send a NOTICE).
    static func create(_ connection: Connection) throws {
        if try connection.execute("SELECT to_regclass('greyoak_ingest_log') IS NULL")[0, 0] == "t" {
            try connection.execute(createSQL)
        }
    }

    /// When a file with this content was committed, as the server prints it; nil if never.
    static func committedAt(_ connection: Connection, sha256: String) throws -> String? {
        try connection.execute("""
            SELECT to_char(committed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') FROM greyoak_ingest_log
            WHERE file_sha256 = $1 ORDER BY committed_at LIMIT 1
            """, [sha256]).column.first
    }

    /// The statement that records `entry`, run in the transaction that commits its rows, so
    /// that a file recorded here was loaded exactly once.
    static func recordSQL(_ entry: IngestLedgerEntry, summary: IngestSummary) -> (String, [String?]) {
        ("""
        INSERT INTO greyoak_ingest_log (file, file_sha256, bytes, rows_read, inserted, updated, unchanged, rejected)
        VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::bigint)
        """, [entry.file, entry.sha256, String(entry.bytes), String(summary.rowsRead), String(summary.inserted),
              String(summary.updated), String(summary.unchanged), String(summary.rejected)])
    }
}

/// The `greyoak_ingest_log` row a load writes with its data (``IngestOptions/ledgerEntry``).
public struct IngestLedgerEntry: Sendable {
    public var file: String
    public var sha256: String
    public var bytes: Int
}
