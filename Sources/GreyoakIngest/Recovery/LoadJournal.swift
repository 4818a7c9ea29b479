import Foundation
import GreyoakPostgres

/// `greyoak_load`: one row per load, written before it sends a row and marked `committed` in
/// the transaction that is its commit point. A row left `running` by a load that is gone
/// names an interrupted load; recovery resolves it and writes how.
///
/// A live load holds the advisory lock (``lockClass``, id) in its ``LockSession`` for as long
/// as it runs, so recovery can tell a live load from a dead one without guessing at timeouts:
/// the lock is free exactly when the transaction that held it has ended.
enum LoadJournal {
    static let table = GreyoakTables.loadJournal

    /// "grld": the class of the per-load advisory locks (two-key form, apart from the
    /// schema and load locks' single 64-bit keys).
    static let lockClass: Int32 = 0x6772_6C64

    static let createSQL = """
        CREATE TABLE greyoak_load (
            id BIGSERIAL PRIMARY KEY,
            started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            input TEXT NOT NULL,
            commit_method TEXT NOT NULL,
            writers INT NOT NULL,
            state TEXT NOT NULL DEFAULT 'running',
            committed_at TIMESTAMPTZ,
            rows_read BIGINT,
            inserted BIGINT,
            updated BIGINT,
            unchanged BIGINT,
            resolution TEXT,
            resolved_at TIMESTAMPTZ,
            db_role NAME NOT NULL DEFAULT current_user,
            client_host TEXT,
            coordinator_pid INT NOT NULL DEFAULT pg_backend_pid()
        )
        """

    static func create(_ connection: Connection) throws {
        if try connection.execute("SELECT to_regclass('greyoak_load') IS NULL")[0, 0] == "t" {
            try connection.execute(createSQL)
        }
    }

    /// The SQL expression of a load's lock key pair.
    static func lockArguments(_ id: Int64) -> String { "\(lockClass), \(Int32(truncatingIfNeeded: id & 0x7FFF_FFFF))" }

    /// Starts a load's row: takes the id, then its lock, then inserts, so that no moment exists
    /// when recovery could see the row `running` with its lock free.
    static func begin(_ connection: Connection, locks: LockSession, input: String, method: CommitMethod, writers: Int) throws -> Int64 {
        let id = try Int64(connection.execute("SELECT nextval(pg_get_serial_sequence('greyoak_load', 'id'))")[0, 0] ?? "") ?? 0
        guard try locks.tryTake(lockArguments(id)) else {
            throw GreyoakError(.failure, "the lock of the new load \(id) is taken: a session locks greyoak's load ids by hand")
        }
        // Committed without waiting for the WAL flush: the load's own commit comes later and
        // flushes this row with it, and a crash that loses the row can have lost nothing else
        // of the load. One fsync less per load. Set for this statement's transaction only
        // (set_config(..., true)), so that nothing outlives it on a pooled server session.
        try connection.execute("""
            INSERT INTO greyoak_load (id, input, commit_method, writers, client_host)
            SELECT $1::bigint, $2, $3, $4::int, $5 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async
            """, [String(id), input, method.rawValue, String(writers), ProcessInfo.processInfo.hostName])
        return id
    }

    /// The statement that makes a load committed: run in the transaction that is its commit
    /// point (the decision transaction, or the single writer's).
    static func commitSQL(_ id: Int64, summary: IngestSummary) -> (String, [String?]) {
        ("""
        UPDATE greyoak_load SET state = 'committed', committed_at = now(), rows_read = $2::bigint, inserted = $3::bigint,
            updated = $4::bigint, unchanged = $5::bigint WHERE id = $1::bigint AND state = 'running'
        """, [String(id), String(summary.rowsRead), String(summary.inserted), String(summary.updated), String(summary.unchanged)])
    }

    /// Marks a load that failed before its commit point and cleaned up after itself.
    static func rolledBack(_ connection: Connection, _ id: Int64, reason: String) {
        _ = try? connection.execute("""
            UPDATE greyoak_load SET state = 'rolled back', resolution = $2, resolved_at = now()
            WHERE id = $1::bigint AND state = 'running'
            """, [String(id), String(reason.prefix(2000))])
    }

    /// How a load's input is named in the journal: a file, or the first few of many.
    static func describe(_ files: [InputFile]) -> String {
        let names = files.map(\.name)
        switch names.count {
        case 0: return "no input"
        case 1: return names[0]
        case 2...4: return "\(names.count) files: " + names.joined(separator: ", ")
        default: return "\(names.count) files: " + names.prefix(3).joined(separator: ", ") + ", …"
        }
    }
}
