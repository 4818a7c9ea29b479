import ArgumentParser
import Foundation
import GreyoakPostgres
import GreyoakMigrations
import GreyoakIngest

extension DBCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Health check: reachable, at head, no migration running, no interrupted load (read-only, for probes).",
            discussion: "Exit statuses: 0 healthy, 3 behind head, 4 unknown revision, 7 cannot connect, 10 database error, 12 migration running, 13 load interrupted."
        )
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print the result as one JSON object on stdout.") var json = false
        @Option(help: "Seconds each query may take (statement_timeout); the connection attempt is bounded by PGCONNECT_TIMEOUT, else 10 s.")
        var timeout: Double = 5

        func validate() throws {
            if !(timeout > 0) { throw ValidationError("--timeout must be more than 0") }
        }

        func run() throws {
            let logger = options.logger("greyoak.check")
            let report = HealthCheck(graph: try options.graph(), settings: options.settings, logger: logger).run(timeoutSeconds: timeout)
            if json {
                print(report.jsonText)
            } else if report.isHealthy {
                if !options.quiet { print(report.text) }
            } else {
                StderrLogHandler.writePlain(label: "greyoak.check", "FAILED: \(report.text)")
            }
            if !report.isHealthy { throw ExitCode(report.exitStatus) }
        }
    }
}
