/// Where the rows of `scores` live, which decides how a load may write them.
///
/// On a Citus coordinator with `scores` distributed (`create_distributed_table('scores',
/// 'ticker')`), a load differs in two ways: its writers commit in one transaction (Citus
/// refuses `PREPARE TRANSACTION` after a distributed write, see ``CommitMethod``), and its
/// upsert uses statements Citus can plan (see ``StagingSQL/citusUpdateChanged``).
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
}
