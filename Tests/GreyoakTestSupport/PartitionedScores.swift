import Foundation
import GreyoakPostgres

/// Turns a test database's `scores` (at head, as the migrations make it) into the shape of
/// a partitioned `scores` that issue 22's helpers agreed on (partition-shape.md), by plain
/// SQL: the table becomes the partition `scores_legacy` of a parent `scores` partitioned by
/// range of `scoring_date`, bounds MINVALUE to the first day of the month after its newest
/// date (with no rows: after the current month), its primary key and four indexes attached
/// children of the parent's. Until the migration recipe exists, this is how tests get one.
package enum PartitionedScores {
    /// The statements that partition `scores` (one transaction).
    package static let convertSQL = """
        BEGIN;
        ALTER TABLE scores RENAME TO scores_legacy;
        ALTER INDEX scores_pkey RENAME TO scores_legacy_pkey;
        ALTER INDEX idx_scores_ticker RENAME TO scores_legacy_ticker_idx;
        ALTER INDEX idx_scores_band RENAME TO scores_legacy_band_idx;
        ALTER INDEX idx_scores_scoring_date RENAME TO scores_legacy_scoring_date_idx;
        ALTER INDEX idx_scores_mode RENAME TO scores_legacy_mode_idx;
        CREATE TABLE scores (LIKE scores_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (scoring_date);
        ALTER TABLE scores ADD CONSTRAINT scores_pkey PRIMARY KEY (ticker, scoring_date, mode);
        CREATE INDEX idx_scores_ticker ON scores (ticker);
        CREATE INDEX idx_scores_band ON scores (band);
        CREATE INDEX idx_scores_scoring_date ON scores (scoring_date);
        CREATE INDEX idx_scores_mode ON scores (mode);
        DO $$ BEGIN
            EXECUTE format('ALTER TABLE scores ATTACH PARTITION scores_legacy FOR VALUES FROM (MINVALUE) TO (%L)',
                (SELECT coalesce(date_trunc('month', max(scoring_date)), date_trunc('month', current_date)) + interval '1 month'
                 FROM scores_legacy));
        END $$;
        COMMIT;
        """

    /// Partitions `scores` on `connection` (see ``convertSQL``).
    package static func convert(_ connection: Connection) throws {
        try connection.execute(convertSQL)
    }

    /// Makes the monthly partition of `month` (`2025-01`) by hand, as a user would.
    package static func addMonth(_ connection: Connection, _ month: String) throws {
        let name = "scores_p" + month.replacingOccurrences(of: "-", with: "_")
        try connection.execute("""
            CREATE TABLE \(name) PARTITION OF scores FOR VALUES FROM ('\(month)-01') TO (('\(month)-01'::date + interval '1 month')::timestamp)
            """)
    }

    /// A default partition `scores_default`.
    package static func addDefault(_ connection: Connection) throws {
        try connection.execute("CREATE TABLE scores_default PARTITION OF scores DEFAULT")
    }

    /// The partitions of `scores` and their bounds, by name: what a test compares.
    package static func partitions(_ connection: Connection) throws -> [String] {
        try connection.execute("""
            SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'scores'::regclass ORDER BY 1
            """).column
    }

    /// greyoak's standalone tables of new partitions (``AttachSQL``'s `greyoak_attach_%`) left in the database.
    package static func leftovers(_ connection: Connection) throws -> [String] {
        try connection.execute("SELECT relname FROM pg_class WHERE relname LIKE 'greyoak\\_attach\\_%' AND relkind = 'r' ORDER BY 1")
            .column
    }
}
