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
    /// A load that made new partitions of a partitioned `scores` (see ``AttachBuilder``):
    /// how many, and the time of each phase (absent from the JSON otherwise). COPY: the
    /// standalone tables loaded; indexes: the primary keys and indexes built;
    /// attach: the commit point's transaction, which attaches them all (and commits the load).
    public var newPartitions: Int?
    public var copySeconds: Double?
    public var indexSeconds: Double?
    public var attachSeconds: Double?

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
        case newPartitions = "new_partitions", copySeconds = "copy_seconds", indexSeconds = "index_seconds"
        case attachSeconds = "attach_seconds"
    }

    public var jsonText: String {
        var summary = self
        summary.seconds = (seconds * 1000).rounded() / 1000
        summary.rowsPerSecond = (rowsPerSecond * 10).rounded() / 10
        summary.copySeconds = copySeconds.map { ($0 * 1000).rounded() / 1000 }
        summary.indexSeconds = indexSeconds.map { ($0 * 1000).rounded() / 1000 }
        summary.attachSeconds = attachSeconds.map { ($0 * 1000).rounded() / 1000 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(summary)) ?? Data(), as: UTF8.self)
    }

    public var text: String {
        let rate = rowsPerSecond.isFinite ? Int(rowsPerSecond) : 0
        var text = "\(outcome): \(files) file(s), \(rowsRead) rows read, \(inserted) inserted, \(updated) updated, \(unchanged) unchanged, \(rejected) rejected in \(String(format: "%.2f", seconds)) s (\(rate) rows/s)"
        if let newPartitions {
            func s(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
            text += "; \(newPartitions) new partition(s): COPY \(s(copySeconds)) s, indexes \(s(indexSeconds)) s, attach \(s(attachSeconds)) s"
        }
        return text
    }
}
