import Foundation
import Logging
import GreyoakPostgres

/// Collects what `greyoak ingest` needs for its metrics while it runs, and publishes them once
/// at the end, whether the run committed or failed.
public final class IngestMetricsRecorder {
    private let destination: MetricsDestination
    private let settings: ConnectionSettings
    private let logger: Logger
    private let began = Date()
    /// The progress of each pipeline the run made (one, or one per file with --each-file).
    private var progresses: [IngestProgress] = []

    public init(_ destination: MetricsDestination, settings: ConnectionSettings, logger: Logger) {
        self.destination = destination
        self.settings = settings
        self.logger = logger
    }

    /// A refused run's summary, kept before the command line turns its error into an exit status.
    private var refusedSummary: IngestSummary?

    public func watch(_ progress: IngestProgress) { progresses.append(progress) }

    public func refused(_ error: any Error) {
        if let failure = error as? IngestFailure { refusedSummary = failure.summary }
    }

    /// Publishes a finished run's metrics: `summary` of a run that ended (committed, or not
    /// for a dry run or --no-commit) with `exitStatus` 0, or the exit status of one that failed.
    public func publish(_ summary: IngestSummary?, exitStatus: Int32) {
        guard !destination.isEmpty else { return }
        var stages: [(phase: String, seconds: Double)] = []
        for (phase, seconds) in progresses.flatMap(\.phaseSeconds) {
            if let index = stages.firstIndex(where: { $0.phase == phase }) { stages[index].seconds += seconds } else { stages.append((phase, seconds)) }
        }
        let committed = exitStatus == 0 && summary?.outcome == .committed
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
            exitStatus: exitStatus, finished: finished, seconds: finished.timeIntervalSince(began), stages: stages,
            summary: summary ?? refusedSummary, newestScoringDate: newest, succeeded: committed)
        destination.publish(families, logger: logger)
    }
}
