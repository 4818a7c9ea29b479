import Foundation
import Testing
import GreyoakTestSupport

/// Connections cut at chosen protocol messages (``FaultProxy``), at every step of both
/// commit methods: two-phase (two writers, the test server allows prepared transactions)
/// and one transaction (one writer).
@Suite("Ingest faults: connections cut at a protocol message")
struct IngestFaultProxyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let writers: Int
        let message: FaultProxy.Message
        let when: FaultProxy.When
        var testDescription: String { "\(writers == 1 ? "one transaction" : "two-phase"): \(message), \(when)" }
    }

    static let cases: [Case] = [
        // Two-phase: COPY, each PREPARE, the decision's COMMIT, each COMMIT PREPARED.
        Case(writers: 2, message: .copyData(3), when: .before),
        // The coordinator's read of scores' rows for compare mode (the load is a re-ingest).
        Case(writers: 2, message: .query("COPY (SELECT", 1), when: .afterServerGotIt),
        Case(writers: 2, message: .query("PREPARE TRANSACTION", 1), when: .before),
        Case(writers: 2, message: .query("PREPARE TRANSACTION", 2), when: .afterServerGotIt),
        Case(writers: 2, message: .query("COMMIT", 1), when: .before),
        Case(writers: 2, message: .query("COMMIT", 1), when: .afterServerGotIt),
        Case(writers: 2, message: .query("COMMIT PREPARED", 1), when: .before),
        Case(writers: 2, message: .query("COMMIT PREPARED", 2), when: .afterServerGotIt),
        // One transaction: COPY, and the one COMMIT.
        Case(writers: 1, message: .copyData(3), when: .before),
        Case(writers: 1, message: .query("COMMIT", 1), when: .before),
        Case(writers: 1, message: .query("COMMIT", 1), when: .afterServerGotIt),
    ]

    /// A partitioned `scores` and a load with a new month (``FaultScenario/partitioned``): the
    /// COPY into a standalone table, an index build, and the attach in the commit point's
    /// transaction (the coordinator's decision when two-phase, the writer's when one).
    static let partitionCases: [Case] = [
        Case(writers: 2, message: .query("COPY greyoak_attach", 1), when: .before),
        Case(writers: 2, message: .query("ALTER TABLE greyoak_attach", 1), when: .afterServerGotIt),
        Case(writers: 2, message: .query("CREATE INDEX", 2), when: .before),
        Case(writers: 2, message: .query("DO $greyoak_attach$", 1), when: .before),
        Case(writers: 2, message: .query("DO $greyoak_attach$", 1), when: .afterServerGotIt),
        Case(writers: 1, message: .query("DO $greyoak_attach$", 1), when: .afterServerGotIt),
        Case(writers: 1, message: .query("COPY greyoak_attach", 1), when: .before),
    ]

    @Test("a partitioned scores: a cut while new partitions load, index or attach leaves no half-published month and no table behind",
          arguments: partitionCases)
    func cutPartitioned(_ fault: Case) async throws {
        try await cut(fault, partitioned: true)
    }

    @Test("a cut leaves all or nothing, recovery leaves nothing behind, a rerun converges", arguments: cases)
    func cut(_ fault: Case) async throws {
        try await cut(fault, partitioned: false)
    }

    private func cut(_ fault: Case, partitioned: Bool) async throws {
        let scenario = try await FaultScenario.make(tickers: 300, partitioned: partitioned)
        defer { scenario.remove() }
        try await withTestDatabase { database in
            try await scenario.prepare(database)
            let proxy = try FaultProxy(upstreamPort: try testServerPort(), fault: fault.message, when: fault.when)
            defer { proxy.stop() }
            let result = try await IngestCLI.ingest(database, [scenario.load, "--writers", String(fault.writers)],
                                                    databaseURL: try proxy.url(for: database.url))
            #expect(proxy.hasFired, "the load never sent \(fault.message):\n\(result)")
            // Before the commit starts a lost connection is retried from the start; past the
            // commit point the run finishes the load itself; in between, it fails.
            switch (fault.message, fault.when) {
            case (.copyData, _), (.query("COPY (SELECT", _), _), (.query("COPY greyoak_attach", _), _),
                 (.query("ALTER TABLE greyoak_attach", _), _), (.query("CREATE INDEX", _), _):
                #expect(result.status == 0, "\(result)")
                #expect(result.stderr.contains("starting again"), "\(result)")
            case (.query("COMMIT PREPARED", _), _), (.query("COMMIT", _), .afterServerGotIt):
                #expect(result.status == 0, "\(result)")
            default:
                #expect(result.status != 0, "\(result)")
                #expect(!result.stderr.isEmpty)
            }
            try await scenario.check(database, committed: result.status == 0)
        }
    }
}
