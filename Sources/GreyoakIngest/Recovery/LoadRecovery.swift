import Foundation
import Logging
import GreyoakPostgres

/// Resolves loads that were interrupted, as Citus's transaction recovery does: a prepared
/// transaction of a load whose decision (its ``LoadJournal`` row `committed`) was committed is
/// committed; any other is rolled back. A load whose session is gone and that never reached
/// its commit point is marked interrupted. Every load, `db upgrade` and `db recover` run it
/// first: orphaned prepared transactions hold locks on `scores` and hold back vacuum.
///
/// A load still running holds its journal lock, so recovery leaves it alone.
public struct LoadRecovery {
    /// One interrupted load and what recovery did about it.
    public struct Resolution: Sendable, CustomStringConvertible {
        public let load: Int64
        /// What it loaded, when and by whom, from the journal; nil without a journal row.
        public let what: String?
        public let resolution: String

        public var description: String {
            "load \(load)\(what.map { " (\($0))" } ?? ""): \(resolution)"
        }
    }

    let connection: Connection
    let logger: Logger

    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Resolves every interrupted load it can lock; logs each at warning level.
    @discardableResult
    public func run() throws -> [Resolution] {
        let prepared = try Self.preparedGIDs(connection)
        let journal = try connection.execute("SELECT to_regclass('greyoak_load') IS NOT NULL")[0, 0] == "t"
        let leftovers = try AttachLeftovers.tables(connection)
        var ids = Set(prepared.keys).union(leftovers.keys)
        if journal {
            for id in try connection.execute("SELECT id FROM greyoak_load WHERE state = 'running'").column.compactMap({ Int64($0) }) {
                ids.insert(id)
            }
        }
        var resolutions: [Resolution] = []
        // The loads' locks are held to the end of the recovery.
        var locks: LockSession?
        defer { locks?.close() }
        for id in ids.sorted() {
            if locks == nil { locks = try LockSession(for: connection, logger: logger) }
            guard try locks!.tryTake(LoadJournal.lockArguments(id)) else { continue }
            do {
                if let resolution = try resolve(id, gids: prepared[id] ?? [], journal: journal) {
                    logger.warning("recovered an interrupted \(resolution)")
                    resolutions.append(resolution)
                }
                // Its unattached new partitions: never part of scores, whichever way it ended.
                if let tables = leftovers[id] { try AttachLeftovers.drop(connection, tables, load: id, logger: logger) }
            } catch let error as PostgresError where error.sqlState == SQLState.insufficientPrivilege {
                // Only the role that prepared a transaction (or a superuser) may finish it.
                logger.error("cannot recover interrupted load \(id): \(error.message); run `greyoak db recover` as the role that ran it")
            }
        }
        return resolutions
    }

    private func resolve(_ id: Int64, gids: [String], journal: Bool) throws -> Resolution? {
        var row: [String?]?
        if journal {
            row = try connection.execute("""
                SELECT state, input || ', started ' || to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
                       || ' by ' || db_role || coalesce(' on ' || client_host, '') || ', ' || commit_method
                FROM greyoak_load WHERE id = $1::bigint
                """, [String(id)]).rows.first
        }
        let state = row?[0] ?? nil
        let what = row?[1] ?? nil
        if state == "committed" {
            guard !gids.isEmpty else { return nil }
            for gid in gids { try connection.execute("COMMIT PREPARED '\(gid)'") }
            let text = "interrupted after its commit point; recovery committed its \(gids.count) remaining prepared transaction(s), so all of it is in scores"
            try note(id, state: "committed", text, journal: journal)
            return Resolution(load: id, what: what, resolution: text)
        }
        guard state == "running" || state == nil || !gids.isEmpty else { return nil }
        for gid in gids { try connection.execute("ROLLBACK PREPARED '\(gid)'") }
        let text = gids.isEmpty
            ? "interrupted before its commit point; its transactions ended uncommitted, so nothing of it is in scores"
            : "interrupted before its commit point; recovery rolled back its \(gids.count) prepared transaction(s), so nothing of it is in scores"
        try note(id, state: "interrupted", text, journal: journal)
        return Resolution(load: id, what: what, resolution: text)
    }

    private func note(_ id: Int64, state: String, _ text: String, journal: Bool) throws {
        guard journal else { return }
        try connection.execute("""
            UPDATE greyoak_load SET state = $2, resolution = $3, resolved_at = now() WHERE id = $1::bigint
            """, [String(id), state, text])
    }

    /// greyoak's prepared transactions in this database, by load.
    static func preparedGIDs(_ connection: Connection) throws -> [Int64: [String]] {
        var result: [Int64: [String]] = [:]
        for gid in try connection.execute("""
            SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE 'greyoak\\_load\\_%' ORDER BY gid
            """).column {
            if let id = CommitMethod.load(ofGID: gid) { result[id, default: []].append(gid) }
        }
        return result
    }

    // MARK: - What verify reports

    /// What `db verify` says about loads: problems (orphaned prepared transactions, loads
    /// interrupted and not yet resolved, rows left in the shared staging table) and notes
    /// (interrupted loads of the last 30 days and how they were resolved).
    static func inspect(_ connection: Connection) throws -> (problems: [String], notes: [String]) {
        var problems: [String] = [], notes: [String] = []
        let prepared = try connection.execute("""
            SELECT p.gid, to_char(p.prepared AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), p.owner,
                   EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                           AND l.classid = \(LoadJournal.lockClass)::oid
                           AND l.objid = (substring(p.gid FROM '^greyoak_load_([0-9]+)_')::bigint & 2147483647)::oid)
            FROM pg_prepared_xacts p WHERE p.database = current_database()
              -- Another tool's (Citus's own, say) only once it has lingered: those live for moments.
              AND (p.gid LIKE 'greyoak\\_load\\_%' OR p.prepared < now() - interval '1 minute')
            ORDER BY p.prepared
            """).rows
        for row in prepared {
            let gid = row[0] ?? "", when = row[1] ?? "?", owner = row[2] ?? "?"
            if CommitMethod.load(ofGID: gid) != nil {
                if row[3] != "t" {
                    problems.append("prepared transaction \(gid) (prepared \(when) by \(owner)) is left by an interrupted greyoak load; it holds locks on scores and holds back vacuum: run `greyoak db recover`")
                }
            } else {
                problems.append("prepared transaction \(gid) (prepared \(when) by \(owner)) is not greyoak's; it holds locks and holds back vacuum: its owner must COMMIT PREPARED or ROLLBACK PREPARED it")
            }
        }
        guard try connection.execute("SELECT to_regclass('greyoak_load') IS NOT NULL")[0, 0] == "t" else { return (problems, notes) }
        let loads = try connection.execute("""
            SELECT id, input, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), db_role, state,
                   resolution, to_char(resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                   EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                           AND l.classid = \(LoadJournal.lockClass)::oid AND l.objid = (id & 2147483647)::oid)
            FROM greyoak_load
            WHERE state = 'running' OR (resolved_at > now() - interval '30 days' AND state <> 'rolled back')
            ORDER BY id
            """).rows
        for row in loads {
            let id = row[0] ?? "?", input = row[1] ?? "?", started = row[2] ?? "?", role = row[3] ?? "?"
            if row[4] == "running" {
                if row[7] != "t" {
                    problems.append("load \(id) (\(input), started \(started) by \(role)) was interrupted and is not resolved yet: run `greyoak db recover` (or any load)")
                }
            } else {
                notes.append("load \(id) (\(input), started \(started) by \(role)) was interrupted; resolved \(row[6] ?? "?"): \(row[5] ?? "")")
            }
        }
        for (id, tables) in try AttachLeftovers.tables(connection).sorted(by: { $0.key < $1.key })
        where try !AttachLeftovers.loadIsAlive(connection, id) {
            problems.append("table(s) \(tables.joined(separator: ", ")) of new partitions are left unattached by interrupted load \(id); they are not part of scores: run `greyoak db recover` (or any load) to drop them")
        }
        let leftover = try SharedStaging.leftoverRows(connection)
        if leftover > 0 {
            problems.append("greyoak_stage holds \(leftover) committed row(s); greyoak commits none there, so something else wrote them: empty it (DELETE FROM greyoak_stage)")
        }
        return (problems, notes)
    }
}
