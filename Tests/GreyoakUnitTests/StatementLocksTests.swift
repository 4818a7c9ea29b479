import Testing
@testable import GreyoakMigrations

/// The lock levels `db plan` reads from SQL, against PostgreSQL 15's documentation.
@Suite struct StatementLocksTests {
    struct Case: Sendable, CustomStringConvertible {
        let sql: String
        let locks: [String: TableLockMode]
        var scans: [String] = []
        var builds: [String] = []
        var description: String { sql }
    }

    static let cases: [Case] = [
        Case(sql: "ALTER TABLE scores ADD COLUMN confidence FLOAT", locks: ["scores": .accessExclusive]),
        Case(sql: "ALTER TABLE IF EXISTS ONLY public.\"Scores\" RENAME TO s2", locks: ["Scores": .accessExclusive]),
        Case(sql: "ALTER TABLE scores ALTER COLUMN as_of SET NOT NULL", locks: ["scores": .accessExclusive], scans: ["scores"]),
        Case(sql: "ALTER TABLE scores ADD CONSTRAINT c CHECK (final_score >= 0)", locks: ["scores": .accessExclusive], scans: ["scores"]),
        Case(sql: "ALTER TABLE scores ADD CONSTRAINT c CHECK (final_score >= 0) NOT VALID", locks: ["scores": .accessExclusive]),
        Case(sql: "ALTER TABLE scores VALIDATE CONSTRAINT c", locks: ["scores": .shareUpdateExclusive], scans: ["scores"]),
        Case(sql: "ALTER TABLE scores ADD CONSTRAINT fk FOREIGN KEY (ticker) REFERENCES public.tickers (ticker)",
             locks: ["scores": .shareRowExclusive, "tickers": .shareRowExclusive], scans: ["scores"]),
        Case(sql: "ALTER TABLE scores ADD CONSTRAINT fk FOREIGN KEY (ticker) REFERENCES tickers NOT VALID",
             locks: ["scores": .shareRowExclusive, "tickers": .shareRowExclusive]),
        Case(sql: "ALTER TABLE scores ALTER COLUMN band SET STATISTICS 500, SET (fillfactor = 90)", locks: ["scores": .shareUpdateExclusive]),
        Case(sql: "ALTER TABLE scores SET (fillfactor = 90), ADD COLUMN x INT", locks: ["scores": .accessExclusive]),
        Case(sql: "CREATE INDEX idx_a ON scores (as_of)", locks: ["scores": .share], builds: ["idx_a"]),
        Case(sql: "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_b ON ONLY scores USING btree (ticker)",
             locks: ["scores": .shareUpdateExclusive], builds: ["idx_b"]),
        Case(sql: "CREATE TABLE notes (id INT PRIMARY KEY, ticker TEXT REFERENCES tickers (ticker))", locks: ["tickers": .shareRowExclusive]),
        Case(sql: "CREATE TRIGGER t BEFORE UPDATE ON scores FOR EACH ROW EXECUTE FUNCTION f()", locks: ["scores": .shareRowExclusive]),
        Case(sql: "DROP TABLE IF EXISTS a, b CASCADE", locks: ["a": .accessExclusive, "b": .accessExclusive]),
        Case(sql: "TRUNCATE TABLE scores", locks: ["scores": .accessExclusive]),
        Case(sql: "LOCK TABLE scores IN SHARE ROW EXCLUSIVE MODE", locks: ["scores": .shareRowExclusive]),
        Case(sql: "LOCK scores", locks: ["scores": .accessExclusive]),
        Case(sql: "UPDATE scores SET band = 'Hold' WHERE final_score < 65", locks: ["scores": .rowExclusive], scans: ["scores"]),
        Case(sql: "INSERT INTO scores (ticker) VALUES ('A')", locks: ["scores": .rowExclusive]),
        Case(sql: "ALTER TYPE band_enum ADD VALUE 'Sell'", locks: [:]),
        // The partition-scores recipe's statements, and the other kinds issue 21 generates.
        Case(sql: "ALTER TABLE scores_legacy RENAME CONSTRAINT scores_pkey TO scores_legacy_pkey", locks: ["scores_legacy": .accessExclusive]),
        Case(sql: "ALTER INDEX idx_scores_band RENAME TO scores_legacy_band_idx", locks: [:]),
        Case(sql: "CREATE TABLE scores (LIKE scores_legacy INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (scoring_date)",
             locks: ["scores_legacy": .accessShare]),
        Case(sql: "CREATE TABLE scores_p2025_01 PARTITION OF public.scores FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')",
             locks: ["scores": .accessExclusive]),
        Case(sql: "ALTER TABLE scores ATTACH PARTITION scores_p2025_01 FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')",
             locks: ["scores": .shareUpdateExclusive, "scores_p2025_01": .accessExclusive]),
        Case(sql: "ALTER TABLE scores DETACH PARTITION scores_p2025_01", locks: ["scores": .accessExclusive]),
        Case(sql: "ALTER TABLE scores DETACH PARTITION scores_p2025_01 CONCURRENTLY", locks: ["scores": .shareUpdateExclusive]),
        Case(sql: "CREATE INDEX idx_scores_band ON ONLY scores (band)", locks: ["scores": .share], builds: ["idx_scores_band"]),
        Case(sql: """
            DO $recipe$
            DECLARE
                bound timestamp;
            BEGIN
                IF EXISTS (SELECT FROM pg_constraint WHERE conname = 'b') THEN
                    RETURN;
                END IF;
                LOCK TABLE scores IN ACCESS EXCLUSIVE MODE;
                SELECT max(scoring_date) INTO bound FROM scores;
                EXECUTE format('ALTER TABLE scores ADD CONSTRAINT b CHECK (scoring_date < %L) NOT VALID', bound);
            END
            $recipe$
            """, locks: ["scores": .accessExclusive]),
        Case(sql: "DO $$ BEGIN IF true THEN EXECUTE 'ALTER TABLE scores VALIDATE CONSTRAINT b'; END IF; END $$",
             locks: ["scores": .shareUpdateExclusive], scans: ["scores"]),
        Case(sql: "DO $$ BEGIN UPDATE scores SET band = NULL; END $$", locks: ["scores": .rowExclusive], scans: ["scores"]),
        Case(sql: "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t ON x; RETURN NEW; END $$",
             locks: [:]),
        Case(sql: "DROP FUNCTION touch()", locks: [:]),
        Case(sql: "CREATE OR REPLACE TRIGGER t BEFORE UPDATE ON scores FOR EACH ROW EXECUTE FUNCTION f()", locks: ["scores": .shareRowExclusive]),
        Case(sql: "DROP TRIGGER IF EXISTS t ON scores", locks: ["scores": .accessExclusive]),
        Case(sql: "ALTER TRIGGER t ON scores RENAME TO u", locks: ["scores": .accessExclusive]),
        Case(sql: "CREATE POLICY p ON scores USING (true)", locks: ["scores": .accessExclusive]),
        Case(sql: "ALTER POLICY p ON scores USING (false)", locks: ["scores": .accessExclusive]),
        Case(sql: "DROP POLICY p ON scores", locks: ["scores": .accessExclusive]),
        Case(sql: "ALTER TABLE scores ENABLE ROW LEVEL SECURITY", locks: ["scores": .accessExclusive]),
        Case(sql: "GRANT SELECT, INSERT ON scores TO loader", locks: [:]),
        Case(sql: "REVOKE ALL ON scores FROM PUBLIC", locks: [:]),
        Case(sql: "COMMENT ON TABLE scores IS 'x'", locks: ["scores": .shareUpdateExclusive]),
        Case(sql: "COMMENT ON COLUMN public.scores.band IS 'x'", locks: ["scores": .shareUpdateExclusive]),
        Case(sql: "COMMENT ON CONSTRAINT scores_pkey ON scores IS 'x'", locks: ["scores": .accessShare]),
        Case(sql: "COMMENT ON FUNCTION touch() IS 'x'", locks: [:]),
        Case(sql: "SELECT 1", locks: [:]),
    ]

    @Test(arguments: cases) func classifies(_ example: Case) {
        let found = StatementLocks.classify(example.sql)
        #expect(found.locks == example.locks)
        #expect(found.scans == example.scans)
        #expect(found.builds == example.builds)
    }

    @Test func alterIndexAttachLocksBothTables() {
        #expect(StatementLocks.classify("ALTER INDEX idx_scores_band ATTACH PARTITION scores_p2025_01_band_idx").indexTableLocks
                == ["idx_scores_band": .accessShare, "scores_p2025_01_band_idx": .accessShare])
    }

    @Test func newPartitionsNameTheirParent() {
        #expect(StatementLocks.classify("ALTER TABLE scores ATTACH PARTITION p FOR VALUES FROM (1) TO (2)").partitionParents == ["scores"])
        #expect(StatementLocks.classify("CREATE TABLE p PARTITION OF scores FOR VALUES FROM (1) TO (2)").partitionParents == ["scores"])
        #expect(StatementLocks.classify("DO $$ BEGIN EXECUTE format('ALTER TABLE scores ATTACH PARTITION p FOR VALUES FROM (%L) TO (2)', 1); END $$")
                .partitionParents == ["scores"])
        #expect(StatementLocks.classify("ALTER TABLE scores DETACH PARTITION p").partitionParents == [])
    }

    @Test func dropIndexLocksTheIndexTable() {
        #expect(StatementLocks.classify("DROP INDEX idx_a").indexTableLocks == ["idx_a": .accessExclusive])
        #expect(StatementLocks.classify("DROP INDEX CONCURRENTLY IF EXISTS idx_a").indexTableLocks == ["idx_a": .shareUpdateExclusive])
    }

    @Test(arguments: [("2s", 2000), ("500ms", 500), ("1.5s", 1500), ("1min", 60_000), ("3", 3000), (" 30S ", 30_000)])
    func parsesLockTimeouts(_ text: String, _ milliseconds: Int) {
        #expect(LockTimeout(parsing: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["0", "-1s", "abc", "", "2 hours", "nan", "inf"])
    func rejectsLockTimeouts(_ text: String) {
        #expect(LockTimeout(parsing: text) == nil)
    }

    @Test func migrationHeaderSetsItsLockTimeout() throws {
        let text = Fixtures.text("5a0000000001", upgrade: "ALTER TABLE scores ADD COLUMN x INT;")
            .replacingOccurrences(of: "-- Create Date:", with: "-- Lock-Timeout: 30s\n-- Create Date:")
        #expect(try Migration.parse(Array(text.utf8), path: "x.sql").lockTimeout == LockTimeout(milliseconds: 30_000))
        let bad = text.replacingOccurrences(of: "30s", with: "soon")
        #expect(throws: MigrationFileError.self) { try Migration.parse(Array(bad.utf8), path: "x.sql") }
        #expect(try Fixtures.migration("5a0000000002").lockTimeout == nil)
    }

    @Test func backoffGrowsAndStaysWithinItsJitter() {
        let policy = LockRetryPolicy()
        for retry in 1...10 {
            let base = min(10, pow(2, Double(retry - 1)))
            let delay = policy.delay(beforeRetry: retry)
            #expect(delay >= base * 0.75 && delay <= base * 1.25, "retry \(retry): \(delay)")
        }
    }
}

import Foundation

/// How `db plan` prints sizes: like `pg_size_pretty`, and rows in k/M.
@Suite struct PlanSizeTextTests {
    // Expected values are pg_size_pretty's output on PostgreSQL 15.
    @Test(arguments: [(0, "0 bytes"), (10239, "10239 bytes"), (10240, "10 kB"), (10_485_248, "10 MB"), (10_485_760, "10 MB"),
                      (267_042_816, "255 MB"), (325_058_560, "310 MB"), (10_737_418_240, "10 GB"), (21_990_232_555_520, "20 TB")])
    func bytesAsPgSizePretty(_ count: Int, _ text: String) {
        #expect(TableSize.bytes(count) == text)
    }

    @Test(arguments: [(999, "999"), (2000, "2.0k"), (1_000_000, "1.0M"), (1_250_000_000, "1.2G")])
    func rows(_ count: Int, _ text: String) {
        #expect(TableSize.rows(count) == text)
    }
}
