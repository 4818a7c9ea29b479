/// The SQL of the load: the staging table, the duplicate check and the upsert into `scores`.
enum StagingSQL {
    static let valueColumns = ScoreColumn.allCases.dropFirst(3).map(\.name)
    static let allColumns = ScoreColumn.allCases.map(\.name)

    /// The staging table: temporary (dropped at commit) for a load in one transaction,
    /// permanent and unlogged (``SharedStaging``, made by `db upgrade`) for two-phase loads.
    static func stagingTable(temporary: Bool) -> String {
        (temporary ? "CREATE TEMPORARY TABLE" : "CREATE UNLOGGED TABLE") + """
         greyoak_stage (
            ticker VARCHAR(20) NOT NULL, scoring_date TIMESTAMP NOT NULL, mode VARCHAR(20) NOT NULL,
            f_score FLOAT8, t_score FLOAT8, r_score FLOAT8, o_score FLOAT8, q_score FLOAT8, s_score FLOAT8,
            weighted_score FLOAT8, risk_penalty FLOAT8, final_score FLOAT8,
            band TEXT, guardrails VARCHAR(500), as_of TIMESTAMP,
            f_z FLOAT8, t_z FLOAT8, r_z FLOAT8, o_z FLOAT8, q_z FLOAT8, s_z FLOAT8,
            src_file INT4 NOT NULL, src_line INT8 NOT NULL
        )
        """ + (temporary ? " ON COMMIT DROP" : "")
    }

    /// A staged column as `scores` types it. `band` is staged as text (binary COPY sends an
    /// enum as its label, as it sends text), so that the permanent `greyoak_stage` does not
    /// depend on `band_enum` and a downgrade, Alembic's too, can drop the type.
    static func staged(_ alias: String, _ column: String) -> String {
        column == "band" ? "\(alias).band::band_enum" : "\(alias).\(column)"
    }

    static let keyMatch = "t.ticker = s.ticker AND t.scoring_date = s.scoring_date AND t.mode = s.mode"

    /// The classify-then-write statement. `IS DISTINCT FROM` over the row treats NULLs as
    /// equal, so an unchanged row costs one comparison and no write, lock or WAL. Concurrent
    /// greyoak runs cannot race between the join and the writes: the upsert phase holds the
    /// load lock.
    ///
    /// $1 are the staged dates `scores` holds, $2 the writer's tickers (``presentDatesAndTickers``).
    /// The join hashes the `scores` side, whole rows for the comparison: without the two
    /// filters on `t` every writer hashed all of `scores`, every date and every other
    /// writer's tickers too, which was most of an unchanged re-ingest's time (BENCHMARKS.md).
    static let upsert = """
        WITH changed AS MATERIALIZED (
            SELECT s.*, t.ctid AS tid
            FROM greyoak_stage s LEFT JOIN scores t ON \(keyMatch)
                AND t.scoring_date = ANY($1::timestamp[]) AND t.ticker = ANY($2::text[])
            WHERE s.scoring_date = ANY($1::timestamp[])
              AND (t.ctid IS NULL
               OR (\(valueColumns.map { "t.\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(valueColumns.map { staged("s", $0) }.joined(separator: ", "))))
        ), updated AS (
            UPDATE scores t SET \(valueColumns.map { "\($0) = \(staged("c", $0))" }.joined(separator: ", ")), updated_at = now()
            FROM changed c WHERE c.tid IS NOT NULL AND t.ctid = c.tid
            RETURNING 1
        ), inserted AS (
            INSERT INTO scores (\(allColumns.joined(separator: ", ")))
            SELECT \(allColumns.map { staged("c", $0) }.joined(separator: ", ")) FROM changed c
            WHERE c.tid IS NULL
            ORDER BY c.ticker, c.scoring_date, c.mode
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)
        """

    /// The staged dates that `scores` already has rows for (one index probe per date), and
    /// the writer's staged tickers, from one scan of the staging table (both columns are
    /// NOT NULL there, so a NULL marks the other grouping set).
    static let presentDatesAndTickers = """
        WITH g AS MATERIALIZED (SELECT ticker, scoring_date FROM greyoak_stage GROUP BY GROUPING SETS ((ticker), (scoring_date)))
        SELECT coalesce((SELECT array_agg(g.scoring_date) FROM g WHERE g.scoring_date IS NOT NULL
                           AND EXISTS (SELECT 1 FROM scores t WHERE t.scoring_date = g.scoring_date)), '{}'),
               coalesce((SELECT array_agg(g.ticker) FROM g WHERE g.ticker IS NOT NULL), '{}')
        """

    /// Rows of dates `scores` does not hold: new for certain, so a plain INSERT in key order.
    static let insertNewDates = """
        INSERT INTO scores (\(allColumns.joined(separator: ", ")))
        SELECT \(allColumns.map { staged("s", $0) }.joined(separator: ", ")) FROM greyoak_stage s
        WHERE NOT (s.scoring_date = ANY($1::timestamp[]))
        ORDER BY s.ticker, s.scoring_date, s.mode
        """

    // MARK: Citus

    /// The upsert on a Citus coordinator, which cannot plan ``upsert`` (a ctid names a row
    /// of one shard only; the data-modifying CTEs join a local table with a distributed one)
    /// nor ``presentDatesAndTickers`` (a correlated subquery over a distributed table).
    ///
    /// `INSERT ... SELECT ... ON CONFLICT` is the form Citus plans best: it pulls the staged
    /// rows once, sends each to its own shard, and every shard inserts or updates its rows
    /// in parallel. Measured on a coordinator with two workers against `UPDATE ... FROM` the
    /// staging table plus `INSERT ... ON CONFLICT DO NOTHING`, which broadcasts the whole
    /// staging table to every shard: 3.2 s against 5.1 s for the UPDATE alone, at 200k rows.
    /// Unchanged rows are not written, but (unlike with ``upsert``) they are locked, which is
    /// why plain PostgreSQL keeps ``upsert``: there this form took 1.8-2.4 s and 10 MB of WAL
    /// for 200k unchanged rows, the join 0.5-1.0 s and none. $1 is the
    /// transaction's `now()`: Citus wants the expressions of DO UPDATE immutable. Returns
    /// (inserted, updated), an inserted row being one no earlier transaction wrote
    /// (`xmax = 0`).
    static let citusUpsert = """
        WITH written AS (
            INSERT INTO scores AS t (\(allColumns.joined(separator: ", ")))
            SELECT \(allColumns.map { staged("s", $0) }.joined(separator: ", ")) FROM greyoak_stage s
            ON CONFLICT (ticker, scoring_date, mode) DO UPDATE
            SET \(valueColumns.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")), updated_at = $1::timestamp
            WHERE (\(valueColumns.map { "t.\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(valueColumns.map { "EXCLUDED.\($0)" }.joined(separator: ", ")))
            RETURNING t.xmax = 0 AS inserted)
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
        """

    /// Narrows the duplicate statements to the candidate keys: $1 tickers, $2 timestamps in
    /// microseconds since 2000-01-01, $3 modes.
    static let candidateFilter = """
        WHERE (ticker, scoring_date, mode) IN (
            SELECT c.ticker, timestamp '2000-01-01' + c.micros * interval '1 microsecond', c.mode
            FROM unnest($1::text[], $2::int8[], $3::text[]) AS c(ticker, micros, mode))
        """

    /// `--on-duplicate last`: deletes every staged row of a repeated key but the last one
    /// (file order, then line order).
    static func keepLast(filter: String) -> String {
        """
        DELETE FROM greyoak_stage s USING (
            SELECT ticker, scoring_date, mode, max((src_file::int8 << 40) | src_line) AS keep
            FROM greyoak_stage \(filter) GROUP BY 1, 2, 3 HAVING count(*) > 1) d
        WHERE s.ticker = d.ticker AND s.scoring_date = d.scoring_date AND s.mode = d.mode
          AND ((s.src_file::int8 << 40) | s.src_line) <> d.keep
        """
    }

    /// Up to `limit` repeated keys, in the order of their first place: ticker, date, mode,
    /// the first and second place (each `file << 40 | line`), the number of places, and the
    /// number of repeated keys in all.
    static func duplicateGroups(filter: String, limit: Int) -> String {
        """
        SELECT ticker, day, mode, places[1], places[2], cardinality(places), count(*) OVER ()
        FROM (SELECT ticker, to_char(scoring_date, 'YYYY-MM-DD HH24:MI:SS') AS day, mode,
                     array_agg((src_file::int8 << 40) | src_line ORDER BY src_file, src_line) AS places,
                     min(src_file) AS first_file, min(src_line) AS first_line
              FROM greyoak_stage \(filter) GROUP BY 1, 2, 3 HAVING count(*) > 1) d
        ORDER BY first_file, first_line LIMIT \(limit)
        """
    }
}
