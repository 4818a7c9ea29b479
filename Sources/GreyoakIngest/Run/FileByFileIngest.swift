import Foundation
import Logging
import GreyoakPostgres
import GreyoakMigrations

/// `greyoak ingest --each-file`: a backfill that can stop and resume.
///
/// Each file is its own run (its own schema gate, transaction and commit), in the order the
/// paths expand to. A committed file is recorded in ``IngestLedger`` by its SHA-256 in the
/// transaction that commits it; a file already recorded there is skipped. When a file fails, the files before it
/// stay committed and the same command, run again, starts at the failed one.
///
/// What a run over many files gives up: a key in two files is not an error (the later file
/// updates what the earlier one loaded, as two runs would).
public struct FileByFileIngest {
    public enum FileOutcome: Sendable {
        case loaded(IngestSummary)
        /// Committed before, at this time (UTC).
        case skipped(committedAt: String)
    }

    let options: IngestOptions
    let settings: ConnectionSettings
    let graph: RevisionGraph
    let logger: Logger
    public let files: [InputFile]

    public init(options: IngestOptions, settings: ConnectionSettings, graph: RevisionGraph, logger: Logger) throws {
        self.options = options
        self.settings = settings
        self.graph = graph
        self.logger = logger
        files = try InputFile.expandSome(options.paths, format: options.format)
        if files.contains(where: { $0.path == nil }) {
            throw GreyoakError(.usage, "--each-file reads files, not standard input")
        }
    }

    /// Loads the files one after another.
    ///
    /// - Parameters:
    ///   - started: Called with each file's pipeline before it runs (for a progress display).
    ///   - finished: Called after each file that committed or was skipped.
    /// - Returns: The totals; `files` counts the files loaded, ``IngestSummary/skippedFiles``
    ///   those skipped.
    /// - Throws: The failing file's error, after the files before it were committed.
    public func run(started: (IngestPipeline) -> Void = { _ in },
                    finished: (InputFile, FileOutcome) -> Void) throws -> IngestSummary {
        // Dry runs and --no-commit write nothing, so they neither read nor write the ledger.
        let keepsLedger = !options.dryRun && !options.noCommit
        let ledgerSettings = settings.named("ledger").lockTimeout(milliseconds: Int((options.lockTimeout * 1000).rounded()))
        let ledger = keepsLedger ? try TransientFailure.connect(ledgerSettings, logger: logger, retryFor: options.connectRetry) : nil
        defer { ledger?.close() }
        if let ledger { try Bookkeeping.requireForLoad(ledger, IngestHousekeeping()) }
        var total = IngestSummary()
        total.skippedFiles = 0
        let began = Date()
        for file in files {
            let path = file.path!
            var sha256: String?
            if let ledger {
                sha256 = try SHA256.hexOfFile(path)
                if let when = try IngestLedger.committedAt(ledger, sha256: sha256!) {
                    total.skippedFiles! += 1
                    finished(file, .skipped(committedAt: when))
                    continue
                }
            }
            var single = options
            single.paths = [path]
            if let sha256 {
                let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                single.ledgerEntry = IngestLedgerEntry(file: file.name, sha256: sha256, bytes: bytes)
            }
            let pipeline = try IngestPipeline(options: single, settings: settings, graph: graph, logger: logger)
            started(pipeline)
            let summary = try pipeline.run()
            finished(file, .loaded(summary))
            total.files += summary.files
            total.rowsRead += summary.rowsRead
            total.inserted += summary.inserted
            total.updated += summary.updated
            total.unchanged += summary.unchanged
            total.rejected += summary.rejected
            total.writers = max(total.writers, summary.writers)
            total.outcome = summary.outcome
        }
        total.seconds = Date().timeIntervalSince(began)
        total.rowsPerSecond = Double(total.rowsRead) / max(total.seconds, 1e-9)
        return total
    }
}
