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
