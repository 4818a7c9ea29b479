import GreyoakPostgres
/// Where the rows of `scores` live, which decides how a load may write them.
///
/// On a Citus coordinator with `scores` distributed (`create_distributed_table('scores',
/// 'ticker')`), a load differs in two ways: its writers commit in one transaction (Citus
/// refuses `PREPARE TRANSACTION` after a distributed write, see ``CommitMethod``), and its
/// upsert uses statements Citus can plan (see ``StagingSQL/citusUpsert``).
enum TableDistribution: Sendable, Equatable {
    /// An ordinary table of this server (or a Citus local table).
    case local
    /// A Citus distributed table, sharded over the workers.
    case citus

    /// Asks the coordinator how `scores` is placed.
    static func ofScores(_ connection: Connection) throws -> TableDistribution {
        // Two statements: the second would not parse where Citus's catalog does not exist.
        guard try connection.execute("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL")[0, 0] == "t" else { return .local }
        let distributed = try connection.execute("""
            SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition
                           WHERE logicalrelid = to_regclass('scores') AND partmethod <> 'n')
            """)[0, 0] == "t"
        return distributed ? .citus : .local
    }

    /// Readies a session to read or write every shard of `scores` (or `greyoak_stage`): on
    /// Citus, a few connections per worker, kept from one statement to the next. With
    /// Citus's defaults each statement over every shard opens up to 16 connections per worker
    /// (each with its TLS handshake) and closes all but one at its end. Measured with psql on
    /// a coordinator and two workers: a read of a 20k-row range of `scores` took 150-230 ms,
    /// against 90 ms with 4 kept (``ExistingRowsQuery``); a COPY of 20k rows into the
    /// distributed `greyoak_stage`, 483 ms against 235 ms. (A direct COPY of 200k rows into
    /// `scores` was slower with 4: writers set it only to stage.) The coordinator's session is
    /// set once; a writer's in its transaction, each time it starts to stage. Behind a
    /// connection pooler only for the transaction (`SET LOCAL`), so that nothing outlives it on
    /// a server session the pool hands to others: the coordinator's statements go without.
    func prepareSession(_ connection: Connection) throws {
        guard self == .citus else { return }
        let set = connection.pooled ? "SET LOCAL" : "SET"
        try connection.execute("\(set) citus.max_adaptive_executor_pool_size = 4; \(set) citus.max_cached_conns_per_worker = 4")
    }
}
