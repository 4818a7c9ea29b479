import Foundation
import Testing
import GreyoakTestSupport

/// Every lock wait of a load ends after --lock-timeout, with nothing loaded and the blocking
/// session named.
@Suite struct IngestLockWaitTests {
    /// A `report-query` session that locks one row of scores and keeps its transaction open.
    static func lockRow(_ db: TestDatabase, ticker: String) async throws -> Blocker {
        try await Blocker.start(db, sql: "BEGIN; SELECT * FROM scores WHERE ticker = '\(ticker)' FOR UPDATE; SELECT pg_sleep(30); COMMIT",
                                held: "l.relation = 'scores'::regclass AND l.mode = 'RowShareLock'")
    }

    @Test(arguments: [1, 2]) func aLockedRowEndsTheLoadAfterTheTimeoutWithNothingLoaded(writers: Int) async throws {
        try await withTestDatabase { db in
            try await IngestCLI.upgradeHead(db)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let tickers = (0..<40).map { "LCK\($0)" }
            let first = try scratch.write("first.csv", ScoreRecord.csv(tickers.map { ScoreRecord.valid(ticker: $0) }))
            let loaded = try await IngestCLI.ingest(db, [first])
            try #require(loaded.status == 0, "\(loaded)")
            let before = try ScoresTable.snapshot(db)

            // The same keys with a new score: the load must update the row the blocker holds.
            let changed = try scratch.write("changed.csv", ScoreRecord.csv(tickers.map {
                ScoreRecord.valid(ticker: $0).with(["risk_penalty": "5", "final_score": "65"])
            }))
            let blocker = try await Self.lockRow(db, ticker: "LCK7")
            let result = try await IngestCLI.ingest(db, [changed, "--lock-timeout", "1", "--writers", String(writers)], timeout: 30)
            try await blocker.end(db)

            #expect(result.status == 6, "\(result)")
            #expect(result.stderr.contains("nothing was loaded: a lock was not obtained within --lock-timeout 1.0 s"), "\(result)")
            #expect(result.stderr.contains("blocked by pid \(blocker.pid) (user "), "\(result)")
            #expect(result.stderr.contains("application \"report-query\", idle in transaction") || result.stderr.contains("application \"report-query\", active"), "\(result)")
            #expect(result.stderr.contains("transaction open "), "\(result)")
            #expect(try ScoresTable.snapshot(db) == before)
        }
    }

    /// The coordinator and each writer say what they are in pg_stat_activity.
    @Test func loadSessionsSayWhatTheyAre() async throws {
        try await withTestDatabase { db in
            try await IngestCLI.upgradeHead(db)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let file = try scratch.write("rows.csv", ScoreRecord.csv((0..<20).map { ScoreRecord.valid(ticker: "APP\($0)") }))
            // A held row lock makes the load wait, long enough to look at its sessions.
            let loaded = try await IngestCLI.ingest(db, [file])
            try #require(loaded.status == 0, "\(loaded)")
            let changed = try scratch.write("changed.csv", ScoreRecord.csv((0..<20).map {
                ScoreRecord.valid(ticker: "APP\($0)").with(["risk_penalty": "5", "final_score": "65"])
            }))
            let blocker = try await Self.lockRow(db, ticker: "APP3")
            async let load = IngestCLI.ingest(db, [changed, "--lock-timeout", "20", "--writers", "2"], timeout: 40)
            var names: Set<String> = []
            for _ in 0..<200 where !names.isSuperset(of: ["greyoak coordinator", "greyoak writer 1", "greyoak writer 2", "greyoak lock watcher"]) {
                names.formUnion(try db.column("SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"))
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            try await blocker.end(db)
            let result = try await load
            #expect(result.status == 0, "\(result)")
            #expect(names.isSuperset(of: ["greyoak coordinator", "greyoak writer 1", "greyoak writer 2", "greyoak lock watcher"]), "\(names)")
        }
    }
}
