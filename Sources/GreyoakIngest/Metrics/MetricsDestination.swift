import Foundation
import GreyoakPostgres
import Logging

/// Where a run's metrics go: a textfile for node_exporter, a Pushgateway, or both.
public struct MetricsDestination: Sendable {
    public let file: String?
    public let pushgateway: Pushgateway?

    public init(file: String?, pushgateway: Pushgateway?) {
        self.file = file
        self.pushgateway = pushgateway
    }

    public var isEmpty: Bool { file == nil && pushgateway == nil }

    /// Writes and pushes `families`. A failure to publish is logged, not thrown: the job's
    /// own work is done (or has failed) by now, and its exit status must say that; a missing
    /// success shows in monitoring as the last-success timestamp growing old.
    ///
    /// - Returns: Whether every destination took the metrics.
    @discardableResult
    public func publish(_ families: [MetricFamily], logger: Logger) -> Bool {
        var published = true
        if let file {
            do {
                try MetricsTextfile.write(families, to: file, keeping: BatchJobMetrics.keptFromSuccess)
            } catch {
                logger.warning("metrics not written: \(error)")
                published = false
            }
        }
        if let pushgateway {
            do {
                try pushgateway.push(families)
            } catch {
                logger.warning("metrics not pushed: \(error)")
                published = false
            }
        }
        return published
    }

    /// Publishes `greyoak db upgrade`'s metrics (see ``BatchJobMetrics/upgrade(exitStatus:finished:seconds:revisions:applied:)``).
    public func publishUpgrade(exitStatus: Int32, began: Date, revisions: [String]?, applied: Int?, logger: Logger) {
        guard !isEmpty else { return }
        let finished = Date()
        publish(BatchJobMetrics.upgrade(exitStatus: exitStatus, finished: finished, seconds: finished.timeIntervalSince(began),
                                        revisions: revisions, applied: applied), logger: logger)
    }
}
