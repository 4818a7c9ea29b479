import Foundation
import Logging
import GreyoakPostgres
import GreyoakSchema

/// What a range-partitioned `scores` looks like to a load (partition-shape.md): its bounded
/// partitions, its default partition, the interval new partitions take, and whether this
/// load may make them (see ``AttachPrivileges``).
///
/// Read once per attempt on the coordinator, before any row is read: the validator routes
/// each row by it (``isNew(_:)``), on its own thread, so it is a plain value.
struct PartitionLayout: Sendable {
    struct Partition: Sendable, Equatable {
        var name: String
        /// Microseconds since 2000-01-01; `Int64.min` for MINVALUE, `Int64.max` for MAXVALUE.
        var low: Int64
        var high: Int64
    }

    /// The bounded partitions, by lower bound.
    var bounded: [Partition]
    var defaultPartition: String?
    var interval: PartitionInterval
    /// Where the interval came from, for the log: pg_partman, the newest partition, the flag.
    var intervalSource: String
    /// The prefix of a new partition's name: `scores_` (pg_partman names `<parent>_p<date>`,
    /// which is the same for `public.scores`).
    var namePrefix = "scores_"

    /// Whether `date` falls in no bounded partition: its row goes into a partition this load
    /// makes and attaches. Binary search over the bounds.
    @inline(__always)
    func isNew(_ date: Int64) -> Bool {
        var low = 0, high = bounded.count
        while low < high {
            let middle = (low + high) / 2
            if bounded[middle].high <= date { low = middle + 1 } else { high = middle }
        }
        return low == bounded.count || bounded[low].low > date
    }

    /// The bounds of the new partition for `date` (one ``isNew(_:)`` says is new): its
    /// interval, narrowed so that it does not overlap a bounded partition (a year beside
    /// months made by hand).
    func newBounds(for date: Int64) -> (low: Int64, high: Int64) {
        var low = interval.start(of: date), high = interval.end(after: low)
        for partition in bounded {
            if partition.high <= date { low = max(low, partition.high) }
            if partition.low > date { high = min(high, partition.low) }
        }
        return (low, high)
    }

    /// The final name of the new partition that starts at `start`: its interval's
    /// (`scores_p2025_03`), or, for one narrowed beside a bounded partition that has that
    /// name already, the name with its first day (`scores_p2025_03_20250301`).
    func name(of start: Int64) -> String {
        let name = namePrefix + interval.suffix(of: interval.start(of: start))
        guard bounded.contains(where: { $0.name == name }) else { return name }
        return name + "_" + CivilTime.format(start, dateOnly: true).replacingOccurrences(of: "-", with: "")
    }

    /// How `scores` is partitioned; nil when it is not a partitioned table.
    ///
    /// - Parameter requested: `--partition-interval`, used when neither pg_partman nor a
    ///   bounded partition says which interval the user chose.
    static func discover(_ connection: Connection, requested: PartitionInterval?, logger: Logger) throws -> PartitionLayout? {
        guard try connection.execute("""
            SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = to_regclass('scores'))
            """)[0, 0] == "t" else { return nil }
        // The bounds as the server prints them (FOR VALUES FROM ('2025-01-01 00:00:00') TO
        // (...), MINVALUE, MAXVALUE or DEFAULT), turned into binary timestamps by the server.
        let rows = try connection.execute("""
            WITH b AS (
                SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = to_regclass('scores'))
            SELECT relname, bound = 'DEFAULT',
                   ((extract(epoch FROM (regexp_match(bound, 'FROM \\(''([^'']*)''\\)'))[1]::timestamp) - 946684800) * 1000000)::bigint,
                   ((extract(epoch FROM (regexp_match(bound, 'TO \\(''([^'']*)''\\)'))[1]::timestamp) - 946684800) * 1000000)::bigint,
                   bound ~ 'TO \\(MAXVALUE\\)'
            FROM b ORDER BY 3 NULLS FIRST
            """).rows
        var layout = PartitionLayout(bounded: [], defaultPartition: nil, interval: requested ?? .month,
                                     intervalSource: requested == nil ? "the default (no partition says)" : "--partition-interval")
        for row in rows {
            let name = row[0] ?? ""
            if row[1] == "t" {
                layout.defaultPartition = name
                continue
            }
            let low = row[2].flatMap { Int64($0) } ?? .min
            let high = row[4] == "t" ? .max : row[3].flatMap { Int64($0) } ?? .max
            layout.bounded.append(Partition(name: name, low: low, high: high))
        }
        if let managed = try partman(connection, logger: logger) {
            layout.interval = managed
            layout.intervalSource = "pg_partman's part_config"
        } else if let newest = layout.bounded.last(where: { $0.low != .min && $0.high != .max }),
                  let width = PartitionInterval.of(low: newest.low, high: newest.high) {
            if let requested, requested != width {
                logger.warning("--partition-interval \(requested.rawValue) differs from the newest partition \(newest.name), a \(width.rawValue): using \(width.rawValue)s")
            }
            layout.interval = width
            layout.intervalSource = "the newest partition, \(newest.name)"
        }
        return layout
    }

    /// pg_partman's interval for `public.scores`, when the extension (4.x, any schema)
    /// manages it: a month or a year; nil otherwise. Another interval is refused: greyoak
    /// would name and bound its partitions differently from pg_partman's maintenance. A role
    /// that may not read `part_config` goes by the partitions, and is told what to grant.
    private static func partman(_ connection: Connection, logger: Logger) throws -> PartitionInterval? {
        guard let partman = try LoadPartitions.partman(connection) else { return nil }
        let schema = partman.schema
        guard partman.readsConfig else {
            logger.warning("cannot read pg_partman's configuration (\(schema).part_config); going by the partitions of scores: grant USAGE on schema \(schema) and SELECT on \(schema).part_config to the load role")
            return nil
        }
        let rows = try connection.execute("""
            SELECT partition_interval::interval = interval '1 month', partition_interval::interval = interval '1 year',
                   partition_interval, datetime_string
            FROM \(schema).part_config WHERE parent_table = 'public.scores'
            """).rows
        guard let row = rows.first else { return nil }
        if row[0] == "t" { return .month }
        if row[1] == "t" { return .year }
        throw GreyoakError(.failure, """
            pg_partman manages scores with the interval \(row[2] ?? "?") (datetime_string \(row[3] ?? "?")); \
            greyoak makes monthly or yearly partitions only
            """, hint: "load through partitions pg_partman made beforehand (run_maintenance), or partition scores monthly or yearly")
    }
}
