import Foundation
import Testing
import GreyoakTestSupport

/// `--metrics-file` and `--pushgateway`, read back by the real node_exporter (textfile
/// collector) and Pushgateway: a malformed file or push would show there, so the scrape is
/// the test. A failed run after a success keeps the success's timestamp in both.
@Suite struct MetricsTests {
    /// Unix time of 2024-10-08 00:00 UTC, the scoring_date of `ScoreRecord.valid`'s rows.
    static let scoringDate = 1_728_345_600.0

    /// Runs `body` with the services and a database at head, stopping the services after.
    func withServices(_ body: (MonitoringServices, TestDatabase, IngestScratch) async throws -> Void) async throws {
        try await withTestDatabase { db in
            let services = try await MonitoringServices()
            defer { services.stop() }
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            try await body(services, db, scratch)
        }
    }

    /// A good file of `count` rows and a file with one invalid row.
    static func files(_ scratch: IngestScratch, count: Int) throws -> (good: String, bad: String) {
        var bad = ScoreRecord.valid(ticker: "BAD")
        bad.values["band"] = "Stong Buy"
        return (try scratch.write("good.csv", ScoreRecord.csv((0..<count).map { .valid(ticker: "T\($0)") })),
                try scratch.write("bad.csv", ScoreRecord.csv([bad])))
    }

    @Test func nodeExporterReadsTheIngestMetricsAndAFailureKeepsTheLastSuccess() async throws {
        try await withServices { services, db, scratch in
            try await IngestCLI.upgradeHead(db)
            let (good, bad) = try Self.files(scratch, count: 3)
            let metrics = services.textfileDirectory + "/greyoak_ingest.prom"
            let load = try await IngestCLI.ingest(db, [good, "--metrics-file", metrics])
            #expect(load.status == 0, "\(load)")
            let first = try await services.scrapeNodeExporter()
            #expect(first.value("node_textfile_scrape_error") == 0, "\(first)")
            #expect(first.value("greyoak_ingest_last_run_exit_status") == 0, "\(first)")
            #expect(first.value("greyoak_ingest_last_run_rows", ["outcome": "inserted"]) == 3)
            #expect(first.value("greyoak_ingest_last_run_rows", ["outcome": "rejected"]) == 0)
            #expect(first.value("greyoak_ingest_newest_scoring_date_timestamp_seconds") == Self.scoringDate)
            #expect(first.value("greyoak_ingest_last_run_stage_duration_seconds", ["stage": "reading"]) != nil, "\(first)")
            #expect(first.value("greyoak_ingest_last_run_stage_duration_seconds", ["stage": "committing"]) != nil, "\(first)")
            let success = try #require(first.value("greyoak_ingest_last_success_timestamp_seconds"), "\(first)")
            #expect(success == first.value("greyoak_ingest_last_run_timestamp_seconds"))
            // No temporary file is left beside it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: services.textfileDirectory) == ["greyoak_ingest.prom"])

            let refused = try await IngestCLI.ingest(db, [bad, "--metrics-file", metrics])
            #expect(refused.status == 9, "\(refused)")
            let second = try await services.scrapeNodeExporter()
            #expect(second.value("node_textfile_scrape_error") == 0, "\(second)")
            #expect(second.value("greyoak_ingest_last_run_exit_status") == 9, "\(second)")
            #expect(second.value("greyoak_ingest_last_run_rows", ["outcome": "rejected"]) == 1)
            #expect(second.value("greyoak_ingest_last_run_rows", ["outcome": "inserted"]) == 0)
            #expect(second.value("greyoak_ingest_last_success_timestamp_seconds") == success, "\(second)")
            #expect(second.value("greyoak_ingest_newest_scoring_date_timestamp_seconds") == Self.scoringDate)
            #expect(second.value("greyoak_ingest_last_run_timestamp_seconds") != success, "the failed run did not replace the last run time")
        }
    }

    @Test func thePushgatewayKeepsTheLastSuccessAfterAFailedRun() async throws {
        try await withServices { services, db, scratch in
            try await IngestCLI.upgradeHead(db)
            let (good, bad) = try Self.files(scratch, count: 2)
            let load = try await IngestCLI.ingest(db, [good, "--pushgateway", services.pushgatewayURL])
            #expect(load.status == 0, "\(load)")
            let job = ["job": "greyoak_ingest"]
            let first = try await services.scrapePushgateway()
            #expect(first.value("greyoak_ingest_last_run_exit_status", job) == 0, "\(first)")
            #expect(first.value("greyoak_ingest_last_run_rows", job.merging(["outcome": "inserted"]) { a, _ in a }) == 2)
            #expect(first.value("greyoak_ingest_newest_scoring_date_timestamp_seconds", job) == Self.scoringDate)
            let success = try #require(first.value("greyoak_ingest_last_success_timestamp_seconds", job), "\(first)")

            // A re-load finds the rows unchanged.
            let again = try await IngestCLI.ingest(db, [good, "--pushgateway", services.pushgatewayURL])
            #expect(again.status == 0, "\(again)")
            let second = try await services.scrapePushgateway()
            #expect(second.value("greyoak_ingest_last_run_rows", job.merging(["outcome": "unchanged"]) { a, _ in a }) == 2, "\(second)")
            let secondSuccess = try #require(second.value("greyoak_ingest_last_success_timestamp_seconds", job))
            #expect(secondSuccess != success, "the second success did not replace the first")

            let refused = try await IngestCLI.ingest(db, [bad, "--pushgateway", services.pushgatewayURL])
            #expect(refused.status == 9, "\(refused)")
            let third = try await services.scrapePushgateway()
            #expect(third.value("greyoak_ingest_last_run_exit_status", job) == 9, "\(third)")
            #expect(third.value("greyoak_ingest_last_success_timestamp_seconds", job) == secondSuccess, "\(third)")
            #expect(third.value("push_failure_time_seconds", job) == 0, "the Pushgateway refused a push:\n\(third)")
        }
    }

    @Test func upgradeReportsItsRevisionAndAFailedUpgradeKeepsIt() async throws {
        try await withServices { services, db, scratch in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let file = services.textfileDirectory + "/greyoak_db_upgrade.prom"
            let arguments = ["--metrics-file", file, "--pushgateway", services.pushgatewayURL]
            let upgrade = try await CLI.run(["db", "upgrade", "head"] + arguments, databaseURL: db.url, migrations: migrations.path)
            #expect(upgrade.status == 0, "\(upgrade)")
            let revision = ["revision": MigrationsDirectory.initialRevision]
            for scrape in [try await services.scrapeNodeExporter(), try await services.scrapePushgateway()] {
                #expect(scrape.value("node_textfile_scrape_error") ?? 0 == 0, "\(scrape)")
                #expect(scrape.value("greyoak_db_upgrade_revision_info", revision) == 1, "\(scrape)")
                #expect(scrape.value("greyoak_db_upgrade_last_run_migrations") == 1, "\(scrape)")
                #expect(scrape.value("greyoak_db_upgrade_last_run_exit_status") == 0, "\(scrape)")
                #expect(scrape.value("greyoak_db_upgrade_last_run_duration_seconds") != nil, "\(scrape)")
            }
            let success = try #require(try await services.scrapeNodeExporter().value("greyoak_db_upgrade_last_success_timestamp_seconds"))

            try migrations.write("ee0000000001", parents: [MigrationsDirectory.initialRevision], message: "Breaks",
                                 upgrade: "INSERT INTO no_such_table VALUES (1);", downgrade: "")
            let failed = try await CLI.run(["db", "upgrade", "head"] + arguments, databaseURL: db.url, migrations: migrations.path)
            #expect(failed.status == 1, "\(failed)")
            for scrape in [try await services.scrapeNodeExporter(), try await services.scrapePushgateway()] {
                #expect(scrape.value("greyoak_db_upgrade_last_run_exit_status") == 1, "\(scrape)")
                #expect(scrape.value("greyoak_db_upgrade_revision_info", revision) == 1, "\(scrape)")
                #expect(scrape.value("greyoak_db_upgrade_last_success_timestamp_seconds") == success, "\(scrape)")
            }
        }
    }

    /// The check on the check: node_exporter does report a malformed file, so a scrape that
    /// says 0 means greyoak's files are well-formed.
    @Test func nodeExporterReportsAMalformedFile() async throws {
        let services = try await MonitoringServices()
        defer { services.stop() }
        try "greyoak_bad{ 1 2 3\n".write(toFile: services.textfileDirectory + "/bad.prom", atomically: true, encoding: .utf8)
        #expect(try await services.scrapeNodeExporter().value("node_textfile_scrape_error") == 1)
    }

    @Test func aPushgatewayThatIsDownDoesNotFailTheLoad() async throws {
        try await withTestDatabase { db in
            try await IngestCLI.upgradeHead(db)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let (good, _) = try Self.files(scratch, count: 1)
            let nobody = "http://user:S3cr3t-push@127.0.0.1:\(try PrivateCluster.freePort())"
            let load = try await IngestCLI.ingest(db, [good, "--pushgateway", nobody])
            #expect(load.status == 0, "\(load)")
            #expect(load.stderr.contains("metrics not pushed"), "\(load)")
            #expect(!load.stderr.contains("S3cr3t-push"), "\(load)")
        }
    }
}
