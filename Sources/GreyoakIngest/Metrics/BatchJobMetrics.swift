import Foundation
import GreyoakPostgres
import Logging

/// The metrics of greyoak's batch jobs, named and shaped as Prometheus's guidance for batch
/// jobs says: the time of the last success (what an alert watches), the last run's duration,
/// what it processed, and its exit status; all gauges, in base units (seconds, Unix time).
///
/// A failed run's families leave out those that only a success sets (``keptFromSuccess``):
/// a Pushgateway POST then keeps the last success's values, and ``MetricsTextfile`` carries
/// them over from the file it replaces.
public enum BatchJobMetrics {
    /// The families a failed run must not overwrite.
    public static let keptFromSuccess: Set<String> = [
        "greyoak_ingest_last_success_timestamp_seconds", "greyoak_ingest_newest_scoring_date_timestamp_seconds",
        "greyoak_db_upgrade_last_success_timestamp_seconds", "greyoak_db_upgrade_revision_info",
    ]

    /// `greyoak ingest`'s metrics (job `greyoak_ingest`).
    ///
    /// - Parameters:
    ///   - exitStatus: The process's exit status (0 for a load that committed).
    ///   - stages: Seconds per phase (``IngestProgress/phaseSeconds``).
    ///   - summary: The run's counts; a refused run's (nothing inserted, rows rejected) or none.
    ///   - newestScoringDate: Unix time of `max(scoring_date)` in `scores` after a committed
    ///     load, for data freshness; nil otherwise.
    ///   - succeeded: Whether the run committed (a dry run or `--no-commit` is no success).
    public static func ingest(exitStatus: Int32, finished: Date, seconds: Double, stages: [(phase: String, seconds: Double)],
                              summary: IngestSummary?, newestScoringDate: Double?, succeeded: Bool) -> [MetricFamily] {
        var families: [MetricFamily] = []
        if succeeded {
            families.append(MetricFamily("greyoak_ingest_last_success_timestamp_seconds",
                                         help: "Unix time when greyoak ingest last committed a load.",
                                         value: finished.timeIntervalSince1970))
            if let newestScoringDate {
                families.append(MetricFamily("greyoak_ingest_newest_scoring_date_timestamp_seconds",
                                             help: "The newest scoring_date in scores after the last successful load, as Unix time (data freshness).",
                                             value: newestScoringDate))
            }
        }
        families += [
            MetricFamily("greyoak_ingest_last_run_timestamp_seconds", help: "Unix time when the last greyoak ingest ended, whatever its outcome.",
                         value: finished.timeIntervalSince1970),
            MetricFamily("greyoak_ingest_last_run_exit_status", help: "Exit status of the last greyoak ingest (0 loaded; see the README's exit statuses).",
                         value: Double(exitStatus)),
            MetricFamily("greyoak_ingest_last_run_duration_seconds", help: "How long the last greyoak ingest ran.", value: seconds),
            MetricFamily("greyoak_ingest_last_run_stage_duration_seconds",
                         help: "How long the last greyoak ingest spent in each stage (reading covers the gate, parsing, validation and COPY, which overlap).",
                         samples: stages.map { .init($0.seconds, labels: [("stage", $0.phase.replacingOccurrences(of: " ", with: "_"))]) }),
            MetricFamily("greyoak_ingest_last_run_rows", help: "Rows of the last greyoak ingest by outcome (a refused run inserts nothing).",
                         samples: [("inserted", summary?.inserted), ("updated", summary?.updated), ("unchanged", summary?.unchanged),
                                   ("rejected", summary?.rejected)].map { .init(Double($0.1 ?? 0), labels: [("outcome", $0.0)]) }),
        ]
        return families
    }

    /// `greyoak db upgrade`'s metrics (job `greyoak_db_upgrade`).
    ///
    /// - Parameters:
    ///   - revisions: The database's heads after a successful upgrade; nil after a failure.
    ///   - applied: How many migrations the run applied (nil after a failure).
    public static func upgrade(exitStatus: Int32, finished: Date, seconds: Double, revisions: [String]?, applied: Int?) -> [MetricFamily] {
        var families: [MetricFamily] = []
        if let revisions {
            families.append(MetricFamily("greyoak_db_upgrade_last_success_timestamp_seconds",
                                         help: "Unix time when greyoak db upgrade last succeeded.", value: finished.timeIntervalSince1970))
            families.append(MetricFamily("greyoak_db_upgrade_revision_info", help: "The revision greyoak db upgrade left the database at (value 1).",
                                         samples: (revisions.isEmpty ? ["base"] : revisions).map { .init(1, labels: [("revision", $0)]) }))
        }
        families += [
            MetricFamily("greyoak_db_upgrade_last_run_exit_status", help: "Exit status of the last greyoak db upgrade (0 succeeded).",
                         value: Double(exitStatus)),
            MetricFamily("greyoak_db_upgrade_last_run_duration_seconds", help: "How long the last greyoak db upgrade ran, backup included.",
                         value: seconds),
        ]
        if let applied {
            families.append(MetricFamily("greyoak_db_upgrade_last_run_migrations", help: "How many migrations the last successful greyoak db upgrade applied.",
                                         value: Double(applied)))
        }
        return families
    }

    /// Unix time of the newest `scoring_date` in `scores` (the index on it answers), nil when empty.
    public static func newestScoringDate(_ settings: ConnectionSettings, logger: Logger) throws -> Double? {
        let connection = try Connection(settings.named("metrics"), logger: logger)
        defer { connection.close() }
        return try connection.execute("SELECT extract(epoch FROM max(scoring_date))::float8 FROM scores")[0, 0].flatMap(Double.init)
    }
}
