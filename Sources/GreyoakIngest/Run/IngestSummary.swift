import Foundation

/// What a run did, printed at the end and, with `--json`, as one JSON object.
public struct IngestSummary: Sendable, Codable, Equatable {
    public var files = 0
    public var rowsRead = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    public var seconds = 0.0
    public var rowsPerSecond = 0.0
    public var writers = 0
    public var outcome = Outcome.committed
    /// `--each-file` only: files skipped as committed before (absent from the JSON otherwise).
    public var skippedFiles: Int?

    /// How a run ended; the raw value is what the summary line and the JSON say.
    public enum Outcome: String, Codable, Sendable, CustomStringConvertible {
        case committed
        /// A refused run (invalid input): nothing was written.
        case rolledBack = "rolled back"
        case rolledBackNoCommit = "rolled back (--no-commit)"
        case dryRun = "dry run"

        public var description: String { rawValue }
    }

    enum CodingKeys: String, CodingKey {
        case files, rowsRead = "rows_read", inserted, updated, unchanged, rejected, seconds
        case rowsPerSecond = "rows_per_second", writers, outcome, skippedFiles = "skipped_files"
    }

    public var jsonText: String {
        var summary = self
        summary.seconds = (seconds * 1000).rounded() / 1000
        summary.rowsPerSecond = (rowsPerSecond * 10).rounded() / 10
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(summary)) ?? Data(), as: UTF8.self)
    }

    public var text: String {
        let rate = rowsPerSecond.isFinite ? Int(rowsPerSecond) : 0
        return "\(outcome): \(files) file(s), \(rowsRead) rows read, \(inserted) inserted, \(updated) updated, \(unchanged) unchanged, \(rejected) rejected in \(String(format: "%.2f", seconds)) s (\(rate) rows/s)"
    }
}
