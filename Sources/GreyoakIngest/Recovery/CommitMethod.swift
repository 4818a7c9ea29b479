import Logging
import GreyoakPostgres

/// How a load's writers reach one commit point.
///
/// - ``twoPhase``: every writer prepares its transaction (`PREPARE TRANSACTION`), the
///   coordinator commits the decision (the journal row and the ledger rows), then commits the
///   prepared ones. Recovery commits the prepared transactions of a decided load and rolls
///   back the rest. Needs `max_prepared_transactions` of at least the writer count.
/// - ``oneTransaction``: one writer does the whole load, the decision included, in one
///   transaction. Used when the server allows no prepared transactions, and on a Citus
///   coordinator, which refuses `PREPARE TRANSACTION` after a write to a distributed table
///   (Citus spreads that one transaction over its workers with its own two-phase commit).
public enum CommitMethod: String, Sendable {
    case twoPhase = "two-phase"
    case oneTransaction = "one transaction"

    /// Picks the method for `writers` writers, and says why when it must use fewer.
    ///
    /// - Returns: The method and the number of writers it allows.
    static func choose(_ connection: Connection, writers: Int, distribution: TableDistribution,
                       logger: Logger) throws -> (CommitMethod, Int) {
        if writers <= 1 { return (.oneTransaction, 1) }
        let row = try connection.execute("""
            SELECT current_setting('max_prepared_transactions')::int, (SELECT count(*) FROM pg_prepared_xacts)
            """)
        let allowed = Int(row[0, 0] ?? "0") ?? 0, inUse = Int(row[0, 1] ?? "0") ?? 0
        if distribution == .citus {
            logger.debug("scores is a Citus distributed table: loading in one transaction (Citus refuses PREPARE TRANSACTION after distributed writes and runs its own two-phase commit across workers)")
            return (.oneTransaction, 1)
        }
        if allowed == 0 {
            // PostgreSQL's default: said only at debug level, or every default run would say it.
            logger.debug("max_prepared_transactions is 0: loading through one writer so that the load commits in one transaction (allow \(writers) or more prepared transactions for \(writers) parallel writers)")
            return (.oneTransaction, 1)
        }
        let free = allowed - inUse
        if free < 2 {
            logger.info("\(inUse) of max_prepared_transactions \(allowed) are in use: loading through one writer in one transaction")
            return (.oneTransaction, 1)
        }
        if free < writers { logger.info("only \(free) prepared transaction(s) free (max_prepared_transactions \(allowed)): using \(free) writers") }
        return (.twoPhase, min(writers, free))
    }


    /// The id of writer `index`'s prepared transaction in load `load`. Prepared transactions'
    /// ids are unique in the whole cluster, so it names the database (by oid) too.
    package static func gid(load: Int64, database: String, writer index: Int) -> String { "greyoak_load_\(load)_db\(database)_w\(index + 1)" }

    /// The load id a greyoak gid names, if it is one.
    package static func load(ofGID gid: String) -> Int64? {
        guard gid.hasPrefix("greyoak_load_") else { return nil }
        return gid.dropFirst("greyoak_load_".count).split(separator: "_").first.flatMap { Int64($0) }
    }
}
