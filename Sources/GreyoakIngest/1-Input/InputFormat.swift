/// The formats `greyoak ingest` reads.
public enum InputFormat: String, Sendable, CaseIterable {
    /// RFC 4180 CSV with a header row naming the columns.
    case csv
    /// A JSON array of score objects, or the API's `{"stocks": [...]}` wrapper.
    case json
    /// One JSON object per line (`.ndjson`, `.jsonl`).
    case ndjson
}
