import GreyoakMigrations
import GreyoakPostgres

/// The statements of the load-then-attach path (see ``AttachBuilder``).
enum AttachSQL {
    /// What every table a load is still filling or indexing is named after: the load's id
    /// (its `greyoak_load` row) and the partition's suffix, `greyoak_attach_41_p2025_01`.
    static let tablePrefix = "greyoak_attach_"

    static func table(load: Int64, suffix: String) -> String { "\(tablePrefix)\(load)_\(suffix)" }

    /// The load a leftover table names, if it is one of greyoak's.
    static func load(ofTable name: String) -> Int64? {
        guard name.hasPrefix(tablePrefix) else { return nil }
        return name.dropFirst(tablePrefix.count).split(separator: "_").first.flatMap { Int64($0) }
    }

    /// A standalone table with the parent's columns, types, defaults, NOT NULLs and CHECKs (an
    /// ATTACH needs them all), and no index: those are built once it is loaded.
    ///
    /// The CHECK that matches the partition's bound is made here, with the table, so that the
    /// COPY checks each row as it writes it: added after the COPY, it would read the whole
    /// table once more (a full scan per partition, measured at about a tenth of the index
    /// builds). ATTACH finds it implies the partition constraint and does not scan.
    ///
    /// Autovacuum is off for the table until the attach turns it back on (``attach(_:policy:)``):
    /// a committed table of 100k new rows is one autovacuum's ANALYZE picks at its next
    /// round, in the middle of the load, to gather statistics nobody can use before the
    /// attach and that a failed load throws away. Measured (perf, 1M rows into ten months) at
    /// 15% of the server's CPU during a load it fell into. After the attach, autovacuum
    /// analyzes the new partitions as it would any: their insert counts are kept.
    static func create(_ table: String, low: Int64, high: Int64) -> String {
        """
        CREATE TABLE \(table) (LIKE scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION,
            CONSTRAINT \(boundConstraint) CHECK (scoring_date >= \(literal(low)) AND scoring_date < \(literal(high))))
            WITH (\(deferredMaintenance) = off)
        """
    }

    /// The storage parameter ``create(_:low:high:)`` sets and the attach resets.
    static let deferredMaintenance = "autovacuum_enabled"

    /// Binary COPY with FREEZE, in the transaction that created the table: the rows are
    /// written frozen, so nothing (no vacuum, no hint-bit writes by the first readers) has to
    /// touch them again.
    static func copy(_ table: String, freeze: Bool) -> String {
        "COPY \(table) (\(StagingSQL.allColumns.joined(separator: ", "))) FROM STDIN (FORMAT binary\(freeze ? ", FREEZE" : ""))"
    }

    static func literal(_ micros: Int64) -> String { "'\(CivilTime.format(micros, dateOnly: micros % 86_400_000_000 == 0))'" }

    static let boundConstraint = "greyoak_attach_bound"

    /// How the attach's error begins when its lock retries ran out.
    static let gaveUp = "the ATTACH of"

    /// The parent's indexes: for each, the statement that builds its like on `table`, whose
    /// final name is `final` (ATTACH adopts an index of the same definition, whatever its name).
    /// Unique and primary-key constraints become constraints, so ATTACH adopts them as such.
    static let parentIndexes = """
        SELECT c.relname, pg_get_indexdef(i.indexrelid), con.contype::text, pg_get_constraintdef(con.oid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')
        WHERE i.indrelid = to_regclass('scores')
        ORDER BY con.contype = 'p' DESC NULLS LAST, c.relname
        """

    /// One of the parent's indexes, to build on a new partition.
    struct Index: Sendable {
        var name: String
        var definition: String
        var constraint: String?
        var isPrimaryKey: Bool

        /// The statement on `table` (final name `final`).
        func build(on table: String, final: String) -> String {
            let name = String("\(final)_\(isPrimaryKey ? "pkey" : self.name)".prefix(63))
            if let constraint { return "ALTER TABLE \(table) ADD CONSTRAINT \"\(name)\" \(constraint)" }
            // CREATE [UNIQUE] INDEX name ON [ONLY] public.scores USING ...: the same on the table.
            guard let using = definition.range(of: " USING ") else { return definition }
            let head = definition.hasPrefix("CREATE UNIQUE INDEX") ? "CREATE UNIQUE INDEX" : "CREATE INDEX"
            return "\(head) \"\(name)\" ON \(table)\(definition[using.lowerBound...])"
        }
    }

    /// The attaching statement, run in the load's commit-point transaction (see
    /// ``LoadCommit``): each table renamed to its final name, attached, its bound CHECK
    /// dropped (the partition constraint now says the same) and autovacuum given back. One DO block, so that both
    /// commit methods run it as one more statement of their decision.
    ///
    /// Its lock waits are those of a migration (``LockRetryPolicy``): each attempt waits at
    /// most the policy's `lock_timeout` (ATTACH takes SHARE UPDATE EXCLUSIVE on `scores`,
    /// which readers do not wait for, and ACCESS EXCLUSIVE on a default partition, which they
    /// do), and a timed-out attempt is rolled back to its start (the block's exception
    /// handler is a subtransaction) and tried again after the policy's growing pause. When
    /// the retries run out it raises `lock_not_available`, which ends the load with nothing
    /// of it committed and the blocker named (the lock watcher sees who it waited for).
    static func attach(_ partitions: [(table: String, final: String, low: Int64, high: Int64)], policy: LockRetryPolicy) -> String {
        let statements = partitions.map { p in
            """
                    ALTER TABLE \(p.table) RENAME TO \(p.final);
                    ALTER TABLE scores ATTACH PARTITION \(p.final) FOR VALUES FROM (\(literal(p.low))) TO (\(literal(p.high)));
                    ALTER TABLE \(p.final) DROP CONSTRAINT \(boundConstraint), RESET (\(deferredMaintenance));
            """
        }.joined(separator: "\n")
        return """
            DO $greyoak_attach$
            DECLARE
                tries int := 0;
                previous text := current_setting('lock_timeout');
            BEGIN
                LOOP
                    BEGIN
                        PERFORM set_config('lock_timeout', '\(policy.timeout.milliseconds)ms', true);
            \(statements)
                        EXIT;
                    EXCEPTION WHEN lock_not_available THEN
                        tries := tries + 1;
                        IF tries > \(policy.retries) THEN
                            RAISE EXCEPTION USING ERRCODE = 'lock_not_available',
                                MESSAGE = format('\(gaveUp) %s new partition(s) of scores gave up after %s attempt(s), each waiting at most %s for its locks', \(partitions.count), tries, '\(policy.timeout)');
                        END IF;
                        RAISE NOTICE 'greyoak: the ATTACH of the new partitions waited % for a lock; retry % of \(policy.retries)', '\(policy.timeout)', tries;
                        PERFORM pg_sleep(least(\(policy.maximumDelay), \(policy.initialDelay) * 2 ^ (tries - 1)) * (0.75 + random() * 0.5));
                    END;
                END LOOP;
                PERFORM set_config('lock_timeout', previous, true);
            END
            $greyoak_attach$
            """
    }
}
