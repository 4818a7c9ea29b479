import Logging
import GreyoakPostgres

/// Standalone tables of new partitions (``AttachSQL/tablePrefix``) that a load left when it
/// ended before its attach: killed, its connection cut, the server crashed. They are not part
/// of `scores` (only the attach makes them so, at the load's commit point), so dropping them
/// loses nothing. ``LoadRecovery`` drops a load's once it holds the load's journal lock: its
/// session is gone, so it cannot be filling or attaching them.
enum AttachLeftovers {
    /// greyoak's standalone tables in this database, by the load that made them.
    static func tables(_ connection: Connection) throws -> [Int64: [String]] {
        var result: [Int64: [String]] = [:]
        for row in try connection.execute("""
            SELECT c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname LIKE 'greyoak\\_attach\\_%' AND c.relkind = 'r' AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY 1
            """).rows {
            if let name = row[0], let id = AttachSQL.load(ofTable: name), let qualified = row[1] { result[id, default: []].append(qualified) }
        }
        return result
    }

    /// Whether load `id` is running: its journal lock is held (see ``LoadJournal``).
    static func loadIsAlive(_ connection: Connection, _ id: Int64) throws -> Bool {
        try connection.execute("""
            SELECT EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                           AND l.classid = \(LoadJournal.lockClass)::oid AND l.objid = (\(id)::bigint & 2147483647)::oid)
            """)[0, 0] == "t"
    }

    /// Drops `tables` (those of one dead load); says so.
    static func drop(_ connection: Connection, _ tables: [String], load: Int64, logger: Logger) throws {
        for table in tables { try connection.execute("DROP TABLE IF EXISTS \(table)") }
        logger.warning("dropped \(tables.count) unattached table(s) of new partitions left by interrupted load \(load): \(tables.joined(separator: ", "))")
    }
}
