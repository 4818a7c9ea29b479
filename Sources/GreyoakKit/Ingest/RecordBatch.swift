/// Where a row came from, for messages: a CSV line or a JSON record's index.
public enum RowLocation: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// 1-based physical line where the CSV record starts (the header is line 1).
    case line(Int)
    /// 1-based index of the object in a JSON array, or line of an NDJSON file.
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

/// One rejected row or unreadable input, said the way the README promises:
/// `FILE:LINE: column COL: value "V": RULE`.
public struct RowError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// Index of the file in the run, for ordering.
    public var fileIndex: Int
    public var location: RowLocation
    public var column: String?
    public var value: String?
    public var rule: String
    /// Errors that make the rest of the input unreadable refuse the run whatever --max-errors says.
    public var isFatal = false

    public var description: String {
        var text = file
        if location != .file { text += ":\(location)" }
        text += ":"
        if let column { text += " column \(column):" }
        if let value { text += " value \"\(Self.show(value))\":" }
        return text + " \(rule)"
    }

    /// Keeps a value printable and short.
    static func show(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars.prefix(80) {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return value.unicodeScalars.count > 80 ? out + "…" : out
    }
}

/// Records on their way from a parser to the validator: every field of a record in
/// ``ScoreColumn`` order as a byte range in one shared buffer, NUL-terminated so that C
/// number parsing can read it in place. Absent and NULL fields have a start of -1.
struct RecordBatch: Sendable {
    static let width = ScoreColumn.allCases.count

    let fileIndex: Int
    var bytes: [UInt8] = []
    var starts: [Int32] = []
    var lengths: [Int32] = []
    var locations: [RowLocation] = []
    /// Errors a parser found in records it could not form; they count as rejected rows.
    var errors: [RowError] = []

    init(fileIndex: Int, capacity: Int) {
        self.fileIndex = fileIndex
        bytes.reserveCapacity(capacity * 160)
        starts.reserveCapacity(capacity * Self.width)
        lengths.reserveCapacity(capacity * Self.width)
        locations.reserveCapacity(capacity)
    }

    var count: Int { locations.count }
    var isEmpty: Bool { locations.isEmpty && errors.isEmpty }

    /// Opens a record whose fields are all absent until set.
    mutating func beginRecord() {
        starts.append(contentsOf: repeatElement(-1, count: Self.width))
        lengths.append(contentsOf: repeatElement(0, count: Self.width))
    }

    /// Sets a field of the open record.
    mutating func setField(_ column: Int, _ pointer: UnsafeRawPointer, _ length: Int) {
        let slot = starts.count - Self.width + column
        starts[slot] = Int32(bytes.count)
        lengths[slot] = Int32(length)
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
        bytes.append(0)
    }

    mutating func setField(_ column: Int, _ value: some Collection<UInt8>) {
        let slot = starts.count - Self.width + column
        starts[slot] = Int32(bytes.count)
        lengths[slot] = Int32(value.count)
        bytes.append(contentsOf: value)
        bytes.append(0)
    }

    /// Whether the open record already has this field (a JSON object naming it twice).
    func hasField(_ column: Int) -> Bool { starts[starts.count - Self.width + column] >= 0 }

    mutating func commitRecord(_ location: RowLocation) { locations.append(location) }

    /// Drops the open record (it had an error).
    mutating func abandonRecord() {
        starts.removeLast(Self.width)
        lengths.removeLast(Self.width)
    }

    /// The text of a field, for messages.
    func text(record: Int, column: Int) -> String? {
        let slot = record * Self.width + column
        let start = Int(starts[slot])
        guard start >= 0 else { return nil }
        return String(decoding: bytes[start..<(start + Int(lengths[slot]))], as: UTF8.self)
    }
}
