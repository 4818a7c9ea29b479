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

    /// Readies the coordinator's session to read `scores` for the comparison
    /// (``ExistingRowsQuery``): on Citus, a few connections per worker, kept from one read to
    /// the next. With Citus's defaults each read (a SELECT over every shard) opens up to 16
    /// connections per worker and closes all but one at its end: measured with psql on a
    /// coordinator and two workers, 150-230 ms a read of a 20k-row range, against 90 ms
    /// with 4 kept.
    func prepareReads(_ connection: Connection) throws {
        guard self == .citus else { return }
        try connection.execute("SET citus.max_adaptive_executor_pool_size = 4; SET citus.max_cached_conns_per_worker = 4")
    }
}
