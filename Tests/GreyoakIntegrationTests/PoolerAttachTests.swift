import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// The load-then-attach path (issue 22) through a real PgBouncer in transaction pooling mode:
/// its tables are made, loaded, indexed and attached in transactions of their own, so it needs
/// no session of its own, and leaves none of its settings (`maintenance_work_mem`,
/// `max_parallel_maintenance_workers`, `synchronous_commit`, `lock_timeout`) on the pool.
@Suite("Behind a transaction pooler (PgBouncer): new partitions loaded apart and attached")
struct PoolerAttachTests {
    @Test("a pooled backfill of new months attaches them as a direct load does, and leaves the pool's sessions clean")
    func pooledAttach() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let base = try IngestPartitionTests.gen(scratch, "base.csv", tickers: 100, days: 3, start: "2024-10-29")
        // 2024-11-01 on, 45 weekdays: November, December and two days of January.
        let months = try IngestPartitionTests.gen(scratch, "months.csv", tickers: 100, days: 45, start: "2024-11-01")
        let expected = try await IngestPartitionTests.reference([[base], [months]])
        try await withTestDatabase { database in
            let connection = try await IngestPartitionTests.partitioned(database, base: base)
            defer { connection.close() }
            // Room for the load's five connections (a coordinator, two writers into scores,
            // two for the new partitions), each in a transaction at once while the input is read.
            let pooler = try await Pooler(poolSize: 6)
            defer { pooler.stop() }
            let url = pooler.url(database)
            let load = try await IngestCLI.ingest(database, [months, "--writers", "2", "--json"], databaseURL: url)
            #expect(load.status == 0, "\(load)\n\(pooler.log)")
            #expect(try IngestPartitionTests.json(load)["new_partitions"] as? Int == 3, "\(load)")
            #expect(try ScoresTable.snapshot(database) == expected)
            #expect(try PartitionedScores.partitions(connection).count == 4)
            #expect(try PartitionedScores.leftovers(connection).isEmpty)
            try PoolerTests.expectCleanSessions(database, url: url, poolSize: 6)
        }
    }
}
