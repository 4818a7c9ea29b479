import Foundation
import Logging
import GreyoakMigrations
import GreyoakPostgres

/// Whether and how a load makes new partitions of a partitioned `scores`: decided once per
/// attempt, after the gate, before any row is read.
struct AttachPlan: Sendable {
    let layout: PartitionLayout
    /// The connection settings of the attach writers (the load's, `lock_timeout` included).
    let settings: ConnectionSettings
    /// How many connections load and index the new partitions: `--writers`, whatever the
    /// commit method allows the writers of existing partitions (these are not part of it).
    let writers: Int
    /// The attach's lock waits: a migration's (see ``AttachSQL/attach(_:policy:)``).
    let lockPolicy: LockRetryPolicy
    /// Why this load makes no partitions although `scores` is partitioned (Citus, or the
    /// role's privileges), said once; nil when it makes them.
    var refusal: String?
    var makesPartitions: Bool { refusal == nil }

    /// The plan for this load, or nil: `scores` is not partitioned. When this load cannot
    /// make partitions there (``refusal``, said once, with why), every row goes through
    /// `scores` as before.
    static func make(_ connection: Connection, options: IngestOptions, distribution: TableDistribution,
                     settings: ConnectionSettings, logger: Logger) throws -> AttachPlan? {
        guard let layout = try PartitionLayout.discover(connection, requested: options.partitionInterval, logger: logger) else { return nil }
        var plan = AttachPlan(layout: layout, settings: settings, writers: max(1, options.writers), lockPolicy: LockRetryPolicy())
        if distribution == .citus {
            plan.refusal = """
                scores is a Citus distributed partitioned table: greyoak does not load new partitions apart and attach \
                them there (a standalone table would have to be distributed and colocated with scores first, and Citus \
                attaches shard by shard)
                """
        } else {
            plan.refusal = try AttachPrivileges.refusal(connection)
        }
        if let refusal = plan.refusal {
            logger.warning("\(refusal); every row goes through scores as before, so a date that no partition holds fails")
            return plan
        }
        logger.debug("scores is partitioned by range of scoring_date: \(layout.bounded.count) bounded partition(s)\(layout.defaultPartition.map { ", default \($0)" } ?? ""); new partitions are \(layout.interval.rawValue)s (\(layout.intervalSource))")
        return plan
    }

    /// The error of a load whose row fit no partition (`error`, check_violation) because
    /// this load could not make the partition it needed.
    func noPartition(_ error: PostgresError) -> GreyoakError? {
        guard let refusal, error.sqlState == SQLState.checkViolation else { return nil }
        return GreyoakError(.databaseError, "nothing was loaded: \(error.message): the new month needs a partition, and this load cannot make it: \(refusal)",
                            hint: """
                            have the owner of scores make it (CREATE TABLE scores_p<YYYY>_<MM> PARTITION OF scores FOR VALUES \
                            FROM ('<YYYY>-<MM>-01') TO ('<first day of the next month>')), or load as a role that can, then run the \
                            same command again
                            """)
    }

    /// A default partition that holds rows in a new partition's range would make its ATTACH
    /// fail (after the whole load): refuses the load before anything of it is created.
    func checkDefaultPartition(_ connection: Connection, _ partitions: [AttachSpool.Partition]) throws {
        guard let name = layout.defaultPartition, !partitions.isEmpty else { return }
        func array(_ values: [Int64]) -> String { "{" + values.map(String.init).joined(separator: ",") + "}" }
        let rows = try connection.execute("""
            SELECT b.i, count(*) FROM ONLY \(quoted(name)) d
            JOIN unnest($1::int8[], $2::int8[]) WITH ORDINALITY AS b(lo, hi, i)
              ON d.scoring_date >= timestamp '2000-01-01' + b.lo * interval '1 microsecond'
             AND d.scoring_date < timestamp '2000-01-01' + b.hi * interval '1 microsecond'
            GROUP BY b.i ORDER BY b.i
            """, [array(partitions.map(\.low)), array(partitions.map(\.high))]).rows
        guard let first = rows.first, let index = first[0].flatMap(Int.init) else { return }
        let partition = partitions[index - 1], count = first[1] ?? "?"
        let from = AttachSQL.literal(partition.low), to = AttachSQL.literal(partition.high)
        let more = rows.count > 1 ? " (and rows of \(rows.count - 1) more new range(s))" : ""
        throw GreyoakError(.failure, """
            nothing was loaded: the default partition \(name) holds \(count) row(s) from \(from) to \(to), the range of the \
            new partition \(partition.name)\(more); a partition of that range cannot be attached while they are there
            """, hint: """
            move them into a partition of their own first (as the owner of scores, in one transaction: CREATE TABLE \
            \(partition.name) (LIKE scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS); INSERT INTO \(partition.name) SELECT * FROM \
            \(name) WHERE scoring_date >= \(from) AND scoring_date < \(to); DELETE FROM \(name) WHERE scoring_date >= \(from) \
            AND scoring_date < \(to); ALTER TABLE scores ATTACH PARTITION \(partition.name) FOR VALUES FROM (\(from)) TO (\(to))), \
            then run the same command again
            """)
    }

    private func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// What the load role needs to make partitions: CREATE on the schema of `scores` (it creates
/// the standalone tables), and the rights of the owner of `scores` (ATTACH PARTITION needs
/// its user to own both tables: the role must be the owner of `scores` or a member of that
/// role; greyoak then gives each new partition to that owner).
enum AttachPrivileges {
    /// Why this role cannot make partitions; nil when it can.
    static func refusal(_ connection: Connection) throws -> String? {
        guard let row = try connection.execute("""
            SELECT has_schema_privilege(c.relnamespace, 'CREATE'), pg_has_role(c.relowner, 'USAGE'),
                   n.nspname, pg_get_userbyid(c.relowner), current_user
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('scores')
            """).rows.first else { return nil }
        let schema = row[2] ?? "?", owner = row[3] ?? "?", role = row[4] ?? "?"
        var missing: [String] = []
        if row[0] != "t" { missing.append("CREATE on schema \(schema) (to create the standalone tables)") }
        if row[1] != "t" { missing.append("membership in role \(owner), the owner of scores (ATTACH PARTITION requires owning both tables)") }
        guard !missing.isEmpty else { return nil }
        return """
            scores is partitioned, but role \(role) cannot make new partitions for dates no partition holds: it lacks \
            \(missing.joined(separator: " and ")); the owner of scores (\(owner)) can make them, or grant these to \(role)
            """
    }
}
