import ArgumentParser
import Foundation
import Logging
import GreyoakPostgres
import GreyoakIngest

extension InputFormat: ExpressibleByArgument {}
extension DuplicatePolicy: ExpressibleByArgument {}
extension PartitionInterval: ExpressibleByArgument {}

/// `greyoak ingest PATH...`: load score files into `scores`.
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Load score files (CSV, JSON, NDJSON, gzipped or not) into scores, all or nothing.",
        discussion: "Refuses to load unless the database is at the head revision. Exit statuses: 0 loaded, 3 behind head, 4 unknown revision, 6 lock timeout, 7 cannot connect, 9 invalid input, 10 database error."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var metrics: MetricsOptions

    @Argument(help: "Files, directories (walked recursively) or - for standard input.") var paths: [String]
    @Option(help: "Read every input as this format (csv, json, ndjson) instead of going by extension.") var format: InputFormat?
    @Flag(name: .customLong("ignore-unknown-fields"), help: "Drop fields that name no scores column instead of failing.") var ignoreUnknownFields = false
    @Option(name: .customLong("on-duplicate"), help: "A key seen twice in one run: error (default) or last (keep the later row).") var onDuplicate: DuplicatePolicy = .error
    @Option(name: .customLong("max-errors"), help: "Load the good rows and reject up to N bad ones into --rejects; more refuses the run.") var maxErrors: Int?
    @Option(help: "Where rejected rows go (JSON lines with location, errors and raw values); needed with --max-errors.") var rejects: String?
    @Option(name: .customLong("max-report"), help: "How many errors to print (at most 1000; the rest are counted).") var maxReport = 20
    @Flag(name: .customLong("auto-migrate"), help: "Upgrade the schema to head first instead of refusing.") var autoMigrate = false
    @Flag(name: .customLong("dry-run"), help: "Parse and validate only; send no rows to the database.") var dryRun = false
    @Flag(name: .customLong("no-commit"), help: "Do everything, upsert included, then roll back.") var noCommit = false
    @Flag(help: "Print the summary as one JSON object on stdout.") var json = false
    @Option(help: "Writer connections (default: one per core, at most 4).") var writers: Int?
    @Option(name: .customLong("lock-timeout"), help: "Seconds any lock wait may last: the schema lock, the load lock, rows and tables.") var lockTimeout: Double = 60
    @Option(name: .customLong("connect-retry"),
            help: "Seconds to retry a server that is restarting, or a session an administrator ended, before the commit point; the load starts again from the start.")
    var connectRetry: Double = 30
    @Option(help: "JSON file of validation settings (strong_buy_at, buy_at, hold_at, max_abs_z, ...).") var settings: String?
    @Option(name: .customLong("strong-buy-at"), help: "Lowest final score for Strong Buy (default 75).") var strongBuyAt: Double?
    @Option(name: .customLong("buy-at"), help: "Lowest final score for Buy (default 65).") var buyAt: Double?
    @Option(name: .customLong("hold-at"), help: "Lowest final score for Hold (default 50).") var holdAt: Double?
    @Option(name: .customLong("max-abs-z"), help: "Largest |z| accepted (default 10).") var maxAbsZ: Double?
    @Option(name: .customLong("max-record-bytes"),
            help: "Refuse a record (CSV record, JSON object, NDJSON line) longer than this many bytes (default 1048576, 1 MiB).")
    var maxRecordBytes: Int = IngestOptions.defaultMaxRecordBytes
    @Option(name: .customLong("partition-interval"),
            help: "A partitioned scores: the width (month or year) of the partitions a load makes for new dates, when neither pg_partman nor a bounded partition says (default month).")
    var partitionInterval: PartitionInterval?
    @Flag(name: .customLong("no-progress"), help: "No progress display or progress lines.") var noProgress = false
    @Flag(name: .customLong("each-file"),
          help: "Commit each file on its own and record it in greyoak_ingest_log; files recorded there are skipped, so the same command resumes a backfill.")
    var eachFile = false

    func validate() throws {
        if maxErrors != nil, rejects == nil {
            throw ValidationError("--max-errors needs --rejects FILE, so that no rejected row is lost")
        }
        if let maxErrors, maxErrors < 0 { throw ValidationError("--max-errors must be 0 or more") }
        if let writers, writers < 1 || writers > 64 { throw ValidationError("--writers must be between 1 and 64") }
        if connectRetry < 0 { throw ValidationError("--connect-retry must be 0 or more") }
        if dryRun && noCommit { throw ValidationError("--dry-run and --no-commit do not go together") }
        if eachFile && maxErrors != nil {
            throw ValidationError("--each-file does not take --max-errors: each file's run would replace the rejects of the one before")
        }
        if maxRecordBytes < 64 || maxRecordBytes > 1 << 30 {
            throw ValidationError("--max-record-bytes must be between 64 and 1073741824 (1 GiB)")
        }
        if eachFile && paths.contains("-") { throw ValidationError("--each-file reads files, not standard input (-)") }
    }

    func run() throws {
        let logger = options.logger("greyoak.ingest")
        var ingest = IngestOptions()
        ingest.paths = paths
        ingest.format = format
        ingest.ignoreUnknownFields = ignoreUnknownFields
        ingest.onDuplicate = onDuplicate
        ingest.maxErrors = maxErrors
        ingest.rejectsPath = rejects
        ingest.maxReport = maxReport
        ingest.autoMigrate = autoMigrate
        ingest.dryRun = dryRun
        ingest.noCommit = noCommit
        if let writers { ingest.writers = writers }
        ingest.lockTimeout = lockTimeout
        ingest.connectRetry = connectRetry
        ingest.maxRecordBytes = maxRecordBytes
        ingest.partitionInterval = partitionInterval
        if let settings { ingest.rules = try ValidationRules.load(path: settings) }
        if let strongBuyAt { ingest.rules.strongBuyAt = strongBuyAt }
        if let buyAt { ingest.rules.buyAt = buyAt }
        if let holdAt { ingest.rules.holdAt = holdAt }
        if let maxAbsZ { ingest.rules.maxAbsZ = maxAbsZ }

        let recorder = IngestMetricsRecorder(metrics.destination(job: "greyoak_ingest"), settings: options.settings, logger: logger)
        do {
            let summary = eachFile ? try runEachFile(ingest, logger: logger, recorder: recorder)
                : try runOnce(ingest, logger: logger, recorder: recorder)
            recorder.publish(summary, exitStatus: 0)
        } catch {
            recorder.publish(nil, exitStatus: exitStatus(of: error))
            throw error
        }
    }

    private func runOnce(_ ingest: IngestOptions, logger: Logger, recorder: IngestMetricsRecorder) throws -> IngestSummary {
        let pipeline = try IngestPipeline(options: ingest, settings: options.settings, graph: try options.graph(), logger: logger)
        recorder.watch(pipeline.progress)
        let display = noProgress || options.quiet ? nil : ProgressDisplay(progress: pipeline.progress)
        display?.start()
        do {
            let summary = try pipeline.run()
            display?.stop()
            print(json ? summary.jsonText : summary.text)
            return summary
        } catch {
            display?.stop()
            recorder.refused(error)
            try report(error)
        }
    }

    /// Reports a run that failed: an ``IngestFailure``'s errors (and, with `--json`, its
    /// summary) and its exit status; then `note`; any other error goes on to `Main`.
    private func report(_ error: any Error, note: String? = nil) throws -> Never {
        if let failure = error as? IngestFailure {
            StderrLogHandler.writePlain(label: "greyoak.ingest", failure.description)
            if let note { StderrLogHandler.writePlain(label: "greyoak.ingest", note) }
            if json { print(failure.summary.jsonText) }
            throw ExitCode(GreyoakError.Code(for: failure).exitStatus)
        }
        if let note { StderrLogHandler.writePlain(label: "greyoak.ingest", note) }
        throw error
    }

    /// `--each-file`: a line per file as it commits (or is skipped), then the totals.
    private func runEachFile(_ ingest: IngestOptions, logger: Logger, recorder: IngestMetricsRecorder) throws -> IngestSummary {
        let runner = try FileByFileIngest(options: ingest, settings: options.settings, graph: try options.graph(), logger: logger)
        var display: ProgressDisplay?
        var done = 0
        do {
            let total = try runner.run(started: { pipeline in
                recorder.watch(pipeline.progress)
                display = noProgress || options.quiet ? nil : ProgressDisplay(progress: pipeline.progress)
                display?.start()
            }, finished: { file, outcome in
                display?.stop()
                display = nil
                switch outcome {
                case let .loaded(summary):
                    done += 1
                    if !json { print("\(file.name): \(summary.text)") }
                case let .skipped(when):
                    done += 1
                    if !json { print("\(file.name): skipped, committed already at \(when) (greyoak_ingest_log)") }
                }
            })
            print(json ? total.jsonText : "total: \(total.text), \(total.skippedFiles ?? 0) file(s) skipped")
            return total
        } catch {
            display?.stop()
            recorder.refused(error)
            let remaining = runner.files.count - done
            let note = "the \(done) of \(runner.files.count) file(s) before it stay committed (loaded now or before); " +
                "run the same command again to resume with the \(remaining) left"
            try report(error, note: note)
        }
    }
}
