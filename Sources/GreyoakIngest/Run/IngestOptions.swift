import Foundation

/// Everything `greyoak ingest` can be told.
public struct IngestOptions: Sendable {
    public var paths: [String] = []
    /// Overrides detection by file extension.
    public var format: InputFormat?
    public var rules = ValidationRules()
    public var ignoreUnknownFields = false
    public var onDuplicate: DuplicatePolicy = .error
    /// With a value: load good rows, reject up to this many bad ones into ``rejectsPath``.
    public var maxErrors: Int?
    public var rejectsPath: String?
    /// How many errors to print before only counting.
    public var maxReport = 20
    public var autoMigrate = false
    /// Parse and validate only: nothing is sent to the database but the head check.
    public var dryRun = false
    /// Do all the work including the upsert, then roll back.
    public var noCommit = false
    public var writers = IngestOptions.defaultWriters
    public var lockTimeout: Double = 60
    /// Seconds to retry transient failures before the commit point (see ``TransientFailure``).
    public var connectRetry: Double = 30
    public var rowsPerBatch = 2048
    /// The `greyoak_ingest_log` row to commit with the data (`--each-file`).
    public var ledgerEntry: IngestLedgerEntry?
    /// The most bytes one record (a CSV record, a JSON object, an NDJSON line) may take, and
    /// so any field or line in it: far above any real score record, low enough that a
    /// hostile file is refused before it costs memory.
    public var maxRecordBytes = IngestOptions.defaultMaxRecordBytes
    /// The width of the partitions a load makes when neither pg_partman nor a bounded
    /// partition of `scores` says (see ``PartitionLayout``); nil: months.
    public var partitionInterval: PartitionInterval?
    public static let defaultMaxRecordBytes = 1 << 20

    public init() {}

    /// Two writers use two server cores for index maintenance; more than the machine's
    /// cores only adds contention.
    public static var defaultWriters: Int {
        max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
    }
}
