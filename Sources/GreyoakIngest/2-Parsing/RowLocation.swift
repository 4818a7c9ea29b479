/// Where a row came from, for messages: a CSV line or a JSON record's index.
public enum RowLocation: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// 1-based physical line where the CSV record starts (the header is line 1).
    case line(Int)
    /// 1-based index of the object in a JSON array, or of the line in an NDJSON file.
    case record(Int)
    /// The file as a whole.
    case file

    public var description: String {
        switch self {
        case let .line(n): "\(n)"
        case let .record(n): "record \(n)"
        case .file: ""
        }
    }

    var ordinal: Int {
        switch self {
        case let .line(n), let .record(n): n
        case .file: 0
        }
    }
}
