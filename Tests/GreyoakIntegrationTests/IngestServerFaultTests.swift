import Foundation
import Testing
import GreyoakTestSupport

/// Faults of the server itself, each on a private cluster (``PrivateCluster``) so that the
/// shared test server never stops under the rest of the suite.
@Suite("Ingest faults: the server stops, crashes or starts late")
struct IngestServerFaultTests {
    @Test("a server that comes up seconds after greyoak starts: the load waits and loads")
    func lateServer() async throws {
        let scenario = try await FaultScenario.make(tickers: 200)
        defer { scenario.remove() }
        let cluster = try await PrivateCluster()
        defer { cluster.remove() }
        try await cluster.start()
        let url = try await cluster.createDatabase("late")
        let database = TestDatabase(name: "late", url: url, adminURL: cluster.url())
        try #require(try await IngestCLI.ingest(database, [scenario.base]).status == 0)
        try await cluster.stop()

        // The server starts once greyoak has found it down and said it waits, not after a
        // guessed sleep: a child that waited for a test slot once began after the server was up.
        let result = try await IngestCLI.ingest(database, [scenario.load, "--connect-retry", "60"]) { child in
            try await child.waitForStderr(containing: "cannot connect yet")
            try await Task.sleep(for: .seconds(1))
            try await cluster.start()
        }
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("cannot connect yet"), "\(result)")
        #expect(try ScoresTable.snapshot(database) == scenario.all)
    }

    @Test("without --connect-retry a server that is down fails at once with exit 7")
    func noRetry() async throws {
        let cluster = try await PrivateCluster()
        defer { cluster.remove() }
        let database = TestDatabase(name: "down", url: cluster.url("down"), adminURL: cluster.url())
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let file = try scratch.write("one.csv", ScoreRecord.csv([ScoreRecord.valid(ticker: "TCS.NS")]))
        let result = try await IngestCLI.ingest(database, [file, "--connect-retry", "0"])
        #expect(result.status == 7, "\(result)")
    }

    @Test("an immediate shutdown mid-load, then a restart: all or nothing, recovery, a rerun converges",
          arguments: [(0, false), (10, false), (0, true), (10, true)])
    func crashMidLoad(maxPrepared: Int, partitioned: Bool) async throws {
        let scenario = try await FaultScenario.make(tickers: 1500, partitioned: partitioned)
        defer { scenario.remove() }
        let cluster = try await PrivateCluster(settings: ["max_prepared_transactions = \(maxPrepared)"])
        defer { cluster.remove() }
        try await cluster.start()
        let url = try await cluster.createDatabase("crash")
        let database = TestDatabase(name: "crash", url: url, adminURL: cluster.url())
        try await scenario.prepare(database)

        async let run = IngestCLI.ingest(database, [scenario.load, "--writers", "2", "--connect-retry", "0"])
        // Crash once the load is writing (or has finished: then it is a crash after the load).
        let deadline = Date().addingTimeInterval(30)
        // Partitioned: once the new month's table is loading, indexing or attaching.
        let writing = partitioned
            ? "query ILIKE 'COPY greyoak_attach%' OR query ILIKE 'ALTER TABLE greyoak_attach%' OR query ILIKE 'CREATE INDEX%' OR query ILIKE 'DO $greyoak_attach$%'"
            : "query ILIKE 'COPY%' OR query ILIKE 'WITH changed%' OR query ILIKE 'INSERT INTO scores%' OR query ILIKE 'PREPARE%'"
        while Date() < deadline {
            let busy = try? database.column("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                  AND (\(writing))
                """)
            if busy != ["0"] { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await cluster.stop("immediate")
        try await cluster.start()
        let result = try await run
        #expect(result.status == 0 || result.status == 10 || result.status == 7, "\(result)")
        try await scenario.check(database, committed: result.status == 0, recovery: .dbUpgrade)
    }
}
