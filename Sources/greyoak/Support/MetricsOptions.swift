import ArgumentParser
import Foundation
import GreyoakPostgres
import GreyoakMigrations
import GreyoakIngest
import Logging

/// `--metrics-file` and `--pushgateway`, for the batch jobs: `ingest` and `db upgrade`.
struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-file"),
            help: "Write the run's Prometheus metrics to this .prom file (atomically), for node_exporter's textfile collector.")
    var file: String?
    @Option(name: .customLong("pushgateway"),
            help: "Push the run's Prometheus metrics to this Pushgateway (http://host:9091), with POST so a failed run keeps the last success's.")
    var pushgateway: String?

    func validate() throws {
        // node_exporter reads *.prom only: any other name would be written and never scraped.
        if let file, !file.hasSuffix(".prom") { throw ValidationError("--metrics-file must end in .prom (node_exporter reads only those): \(file)") }
        if let pushgateway, !pushgateway.lowercased().hasPrefix("http://") {
            throw ValidationError("--pushgateway takes an http:// URL (https is not supported: use a TLS sidecar, or --metrics-file)")
        }
    }

    func destination(job: String) -> MetricsDestination {
        MetricsDestination(file: file, pushgateway: pushgateway.map { Pushgateway(url: $0, job: job) })
    }
}

/// The exit status a run's error gives the process (see `Main.report`).
func exitStatus(of error: any Error) -> Int32 {
    (error as? ExitCode)?.rawValue ?? GreyoakError.Code(for: error).exitStatus
}

/// Collects what `greyoak ingest` needs for its metrics while it runs, and publishes them once
/// at the end, whether the run committed or failed.
final class IngestMetricsRecorder {
    private let destination: MetricsDestination
    private let settings: ConnectionSettings
    private let logger: Logger
    private let began = Date()
    /// The progress of each pipeline the run made (one, or one per file with --each-file).
    private var progresses: [IngestProgress] = []

    init(_ destination: MetricsDestination, settings: ConnectionSettings, logger: Logger) {
        self.destination = destination
        self.settings = settings
        self.logger = logger
    }

    /// A refused run's summary, kept before ``IngestCommand`` turns its error into an exit status.
    private var refusedSummary: IngestSummary?

    func watch(_ progress: IngestProgress) { progresses.append(progress) }

    func refused(_ error: any Error) {
        if let failure = error as? IngestFailure { refusedSummary = failure.summary }
    }

    /// Publishes a finished run's metrics: `summary` of a run that ended (committed, or not
    /// for a dry run or --no-commit), or `error` of one that failed.
    func publish(_ summary: IngestSummary?, error: (any Error)? = nil) {
        guard !destination.isEmpty else { return }
        var stages: [(phase: String, seconds: Double)] = []
        for (phase, seconds) in progresses.flatMap(\.phaseSeconds) {
            if let index = stages.firstIndex(where: { $0.phase == phase }) { stages[index].seconds += seconds } else { stages.append((phase, seconds)) }
        }
        let committed = error == nil && summary?.outcome == .committed
        var newest: Double?
        if committed {
            do {
                newest = try BatchJobMetrics.newestScoringDate(settings, logger: logger)
            } catch {
                logger.warning("metrics: cannot read the newest scoring_date: \(error)")
            }
        }
        let finished = Date()
        let families = BatchJobMetrics.ingest(
            exitStatus: error.map(exitStatus(of:)) ?? 0, finished: finished, seconds: finished.timeIntervalSince(began), stages: stages,
            summary: summary ?? refusedSummary, newestScoringDate: newest, succeeded: committed)
        destination.publish(families, logger: logger)
    }
}
