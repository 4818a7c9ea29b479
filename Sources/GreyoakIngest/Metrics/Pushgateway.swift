import Foundation
import GreyoakPostgres

/// `--pushgateway URL`: pushes a run's metrics to a Prometheus Pushgateway.
///
/// With POST, which replaces only the metrics of the same names in the job's group: a failed
/// run pushes no `..._last_success_timestamp_seconds`, so the one of the last success stays
/// (Prometheus's advice for batch jobs). The group is `job/<job>` unless the URL names one
/// (`http://host:9091/metrics/job/NAME/LABEL/VALUE...`).
public struct Pushgateway: Sendable {
    public let url: String
    public let job: String
    /// Seconds the whole push may take: a Pushgateway that does not answer must not hold up
    /// the job, whose work is done by then.
    public var timeout = 10.0

    public init(url: String, job: String) {
        self.url = url
        self.job = job
    }

    /// Where the metrics go: the URL as given when it names a group, else `<URL>/metrics/job/<job>`.
    public var groupURL: String {
        if url.contains("/metrics/job/") { return url }
        return (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/metrics/job/" + job
    }

    /// POSTs `families`.
    ///
    /// - Throws: ``GreyoakError`` when the Pushgateway cannot be reached or refuses the push
    ///   (its reason included: an inconsistent metric, say).
    public func push(_ families: [MetricFamily]) throws {
        let request = HTTPPost(url: groupURL, body: Array(MetricFamily.exposition(families).utf8),
                               contentType: "text/plain; version=0.0.4; charset=utf-8", timeout: timeout)
        let (status, message) = try request.send()
        guard (200..<300).contains(status) else {
            throw GreyoakError(.failure, "the Pushgateway at \(request.redactedURL) refused the metrics: HTTP \(status)\(message.isEmpty ? "" : ": \(message)")")
        }
    }
}
