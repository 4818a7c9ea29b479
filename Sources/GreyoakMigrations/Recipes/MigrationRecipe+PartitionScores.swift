extension MigrationRecipe {
    /// `scores` becomes `PARTITION BY RANGE (scoring_date)` on a live database, with no long lock.
    ///
    /// The shape is the one issue 22's loads expect: the parent keeps the name `scores`, its
    /// columns, `scores_pkey` and the four indexes' names (as partitioned indexes); the table
    /// that was there becomes the partition `scores_legacy`, `FROM (MINVALUE) TO (<bound>)`,
    /// its indexes renamed as PostgreSQL names a partition's (`scores_legacy_pkey`,
    /// `scores_legacy_ticker_idx`…) and attached to the parent's. The bound, the first day of
    /// the month after the newest `scoring_date`, is only known when the upgrade runs, so the
    /// SQL computes it then.
    ///
    /// Two files, because the CHECK that spares the ATTACH its scan must be validated in a
    /// transaction of its own: file 1 runs outside a transaction (the CHECK `NOT VALID`, an
    /// instant under ACCESS EXCLUSIVE; then `VALIDATE`, a scan under SHARE UPDATE EXCLUSIVE,
    /// which lets reads and writes go on); file 2 swaps the tables in one short transaction.
    public static let partitionScores = MigrationRecipe(
        name: "partition-scores",
        summary: "turn scores into a table partitioned by range of scoring_date, the old table its first partition",
        marker: "ADD CONSTRAINT scores_legacy_bound CHECK",
        files: [
            File(step: "bound the rows already there", transactional: false,
                 upgrade: partitionScoresBoundUpgrade, downgrade: partitionScoresBoundDowngrade),
            File(step: "attach them under a partitioned scores", transactional: true,
                 upgrade: partitionScoresSwapUpgrade, downgrade: partitionScoresSwapDowngrade),
        ])

    static let partitionScoresBoundUpgrade = """
    -- Written by `greyoak db revision --recipe partition-scores` (step 1 of 2). Review it; edit it
    -- if your scores table has more than the seed's primary key and four indexes (it refuses then).
    -- Outside a transaction, statement by statement:
    --   1. a CHECK that every row is before the bound, added NOT VALID: ACCESS EXCLUSIVE on scores
    --      for milliseconds (no row is read; rows written from then on are checked);
    --   2. VALIDATE reads every row under SHARE UPDATE EXCLUSIVE: reads and writes go on.
    -- The bound is the first day of the month after the newest scoring_date (with no rows, of next
    -- month), computed when this runs. From then on, a row at or after it is refused until a
    -- partition takes it: after step 2, a load makes one per new month (pg_partman, ahead of time).

    DO $recipe$
    DECLARE
        bound timestamp;
        refused text;
    BEGIN
        IF EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = 'scores'::regclass) THEN
            RAISE EXCEPTION 'scores is already partitioned: the partition-scores recipe turns a plain scores table into a partitioned one'
                USING HINT = 'remove this revision and the next one (its step 2) from the migrations directory';
        END IF;
        IF to_regclass('pg_dist_partition') IS NOT NULL THEN
            EXECUTE 'SELECT string_agg(logicalrelid::text, '','') FROM pg_dist_partition WHERE logicalrelid = ''scores''::regclass'
                INTO refused;
            IF refused IS NOT NULL THEN
                RAISE EXCEPTION 'scores is distributed by Citus: the partition-scores recipe works on a plain table of one server'
                    USING HINT = 'undistribute it first (SELECT undistribute_table(''scores'')), or remove this revision and the next one';
            END IF;
        END IF;
        -- Step 2 makes the seed's primary key and four indexes on the new parent, and carries the
        -- owner, grants and comment over; anything else on scores would be left behind on the
        -- old table (a view would read only its rows), so it is refused here, before any change.
        SELECT string_agg(what, ', ') INTO refused FROM (
            SELECT format('index %s', indexrelid::regclass) AS what FROM pg_index
            WHERE indrelid = 'scores'::regclass
              AND indexrelid::regclass::text NOT IN ('scores_pkey', 'idx_scores_ticker', 'idx_scores_band',
                                                     'idx_scores_scoring_date', 'idx_scores_mode')
            UNION ALL
            SELECT format('constraint %I', conname) FROM pg_constraint
            WHERE conrelid = 'scores'::regclass AND conname NOT IN ('scores_pkey', 'scores_legacy_bound')
            UNION ALL
            SELECT format('foreign key %I of %s', conname, conrelid::regclass) FROM pg_constraint
            WHERE confrelid = 'scores'::regclass
            UNION ALL
            SELECT format('trigger %I', tgname) FROM pg_trigger WHERE tgrelid = 'scores'::regclass AND NOT tgisinternal
            UNION ALL
            SELECT format('policy %I', polname) FROM pg_policy WHERE polrelid = 'scores'::regclass
            UNION ALL
            SELECT DISTINCT format('view %s', r.ev_class::regclass) FROM pg_rewrite r
            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = 'scores'::regclass AND r.ev_class <> 'scores'::regclass
        ) AS other;
        IF refused IS NOT NULL THEN
            RAISE EXCEPTION 'scores has what the partition-scores recipe does not carry over to the partitioned parent: %', refused
                USING HINT = 'edit step 2 to make them on the new parent (or drop them before, and make them again after it), and this check to allow them';
        END IF;
        -- A run stopped before VALIDATE committed left the CHECK: VALIDATE it now.
        IF EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'scores'::regclass AND conname = 'scores_legacy_bound') THEN
            RETURN;
        END IF;
        -- Locked first, so no row past the bound commits between reading it and the CHECK.
        LOCK TABLE scores IN ACCESS EXCLUSIVE MODE;
        SELECT date_trunc('month', max(scoring_date)) + interval '1 month' INTO bound FROM scores;
        bound := coalesce(bound, date_trunc('month', localtimestamp) + interval '1 month');
        EXECUTE format('ALTER TABLE scores ADD CONSTRAINT scores_legacy_bound CHECK (scoring_date < %L) NOT VALID', bound);
    END
    $recipe$;

    ALTER TABLE scores VALIDATE CONSTRAINT scores_legacy_bound;
    """

    static let partitionScoresBoundDowngrade = """
    ALTER TABLE scores DROP CONSTRAINT IF EXISTS scores_legacy_bound;
    """

    static let partitionScoresSwapUpgrade = """
    -- Written by `greyoak db revision --recipe partition-scores` (step 2 of 2). One transaction,
    -- holding ACCESS EXCLUSIVE on the old table from its RENAME to the commit: renames, an empty
    -- parent, and an ATTACH that neither scans (the CHECK step 1 validated proves the bound) nor
    -- builds (the old table's five indexes match the parent's and are attached as they are).
    -- Milliseconds, whatever the table's size; readers queue behind it for that long.

    -- The old table becomes the partition scores_legacy; its indexes take the names PostgreSQL
    -- gives a partition's, so the parent can have the ones the application and greyoak know.
    ALTER TABLE scores RENAME TO scores_legacy;
    ALTER TABLE scores_legacy RENAME CONSTRAINT scores_pkey TO scores_legacy_pkey;
    ALTER INDEX idx_scores_ticker RENAME TO scores_legacy_ticker_idx;
    ALTER INDEX idx_scores_band RENAME TO scores_legacy_band_idx;
    ALTER INDEX idx_scores_scoring_date RENAME TO scores_legacy_scoring_date_idx;
    ALTER INDEX idx_scores_mode RENAME TO scores_legacy_mode_idx;

    -- The parent: the same columns, types, defaults, NOT NULLs and column comments.
    CREATE TABLE scores (LIKE scores_legacy INCLUDING ALL EXCLUDING INDEXES EXCLUDING CONSTRAINTS)
        PARTITION BY RANGE (scoring_date);
    -- On a parent with no partition yet these are instant, and valid; each partition attached or
    -- created later gets (or must already have) its own copy.
    ALTER TABLE ONLY scores ADD CONSTRAINT scores_pkey PRIMARY KEY (ticker, scoring_date, mode);
    CREATE INDEX idx_scores_ticker ON ONLY scores (ticker);
    CREATE INDEX idx_scores_band ON ONLY scores (band);
    CREATE INDEX idx_scores_scoring_date ON ONLY scores (scoring_date);
    CREATE INDEX idx_scores_mode ON ONLY scores (mode);

    -- The old table's owner, grants (a loader's INSERT, a reader's SELECT, a report's SELECT of
    -- some columns) and comment.
    DO $recipe$
    DECLARE
        old pg_class;
        granted record;
    BEGIN
        SELECT * INTO old FROM pg_class WHERE oid = 'scores_legacy'::regclass;
        IF old.relowner <> (SELECT relowner FROM pg_class WHERE oid = 'scores'::regclass) THEN
            EXECUTE format('ALTER TABLE scores OWNER TO %s', old.relowner::regrole);
        END IF;
        FOR granted IN SELECT a.privilege_type, a.grantee, a.is_grantable FROM aclexplode(old.relacl) a
                       WHERE a.grantee <> old.relowner LOOP
            EXECUTE format('GRANT %s ON scores TO %s%s', granted.privilege_type,
                           CASE granted.grantee WHEN 0 THEN 'PUBLIC' ELSE granted.grantee::regrole::text END,
                           CASE WHEN granted.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
        FOR granted IN SELECT a.privilege_type, a.grantee, a.is_grantable, c.attname
                       FROM pg_attribute c, aclexplode(c.attacl) a
                       WHERE c.attrelid = old.oid AND c.attnum > 0 AND NOT c.attisdropped AND c.attacl IS NOT NULL
                         AND a.grantee <> old.relowner LOOP
            EXECUTE format('GRANT %s (%I) ON scores TO %s%s', granted.privilege_type, granted.attname,
                           CASE granted.grantee WHEN 0 THEN 'PUBLIC' ELSE granted.grantee::regrole::text END,
                           CASE WHEN granted.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
        IF obj_description(old.oid, 'pg_class') IS NOT NULL THEN
            EXECUTE format('COMMENT ON TABLE scores IS %L', obj_description(old.oid, 'pg_class'));
        END IF;
    END
    $recipe$;

    -- The bound is the one the CHECK of step 1 holds, so that the ATTACH does not scan.
    DO $recipe$
    DECLARE
        bound text;
    BEGIN
        SELECT substring(pg_get_constraintdef(oid) FROM '''([^'']*)''') INTO bound FROM pg_constraint
        WHERE conrelid = 'scores_legacy'::regclass AND conname = 'scores_legacy_bound';
        IF bound IS NULL THEN
            RAISE EXCEPTION 'scores has no CHECK constraint scores_legacy_bound: step 1 of the partition-scores recipe did not run';
        END IF;
        EXECUTE format('ALTER TABLE scores ATTACH PARTITION scores_legacy FOR VALUES FROM (MINVALUE) TO (%L)', bound);
    END
    $recipe$;
    """

    static let partitionScoresSwapDowngrade = """
    -- Back to one plain table named scores with the seed's primary key and indexes. Rows of the
    -- partitions that loads made (scores_p2025_01, …, a default partition) are copied back into
    -- it: ACCESS EXCLUSIVE on scores from the DETACH to the commit, for as long as the copy with
    -- row-by-row index maintenance takes (a load of that many rows into the indexed table). With
    -- only scores_legacy there, milliseconds.
    ALTER TABLE scores DETACH PARTITION scores_legacy;
    DO $recipe$
    BEGIN
        IF EXISTS (SELECT FROM scores) THEN
            -- Rows past the bound come back: the CHECK of step 1 goes (its downgrade drops it anyway).
            ALTER TABLE scores_legacy DROP CONSTRAINT IF EXISTS scores_legacy_bound;
            INSERT INTO scores_legacy SELECT * FROM scores;
        END IF;
    END
    $recipe$;
    DROP TABLE scores;
    ALTER TABLE scores_legacy RENAME TO scores;
    ALTER TABLE scores RENAME CONSTRAINT scores_legacy_pkey TO scores_pkey;
    ALTER INDEX scores_legacy_ticker_idx RENAME TO idx_scores_ticker;
    ALTER INDEX scores_legacy_band_idx RENAME TO idx_scores_band;
    ALTER INDEX scores_legacy_scoring_date_idx RENAME TO idx_scores_scoring_date;
    ALTER INDEX scores_legacy_mode_idx RENAME TO idx_scores_mode;
    """
}
