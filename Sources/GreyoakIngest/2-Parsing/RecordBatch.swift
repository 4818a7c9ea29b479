import Foundation
import GreyoakPostgres

/// Records on their way from a parser to the validator: every field of a record in
/// ``ScoreColumn`` order as a byte range in one buffer, NUL-terminated so that C number
/// parsing can read it in place. Absent and NULL fields have a start of -1.
///
/// Not `Sendable`: it moves from the parser to the validator as a `sending` value.
package final class RecordBatch {
    package static let width = ScoreColumn.allCases.count

    let fileIndex: Int
    /// `.line` for CSV, `.record` for JSON: how ``ordinals`` read.
    let byLine: Bool
    let capacity: Int
    let bytes: ByteBuffer
    private let starts: UnsafeMutablePointer<Int32>
    private let lengths: UnsafeMutablePointer<Int32>
    private let ordinals: UnsafeMutablePointer<Int>
    package private(set) var count = 0
    /// The records the parser rejected, in record order, each with its error.
    package private(set) var faults: [(record: Int, error: RowError)] = []

    package init(fileIndex: Int, byLine: Bool, capacity: Int) {
        self.fileIndex = fileIndex
        self.byLine = byLine
        self.capacity = max(1, capacity)
        bytes = ByteBuffer(capacity: self.capacity * 160)
        starts = .allocate(capacity: self.capacity * Self.width)
        lengths = .allocate(capacity: self.capacity * Self.width)
        ordinals = .allocate(capacity: self.capacity)
    }

    deinit {
        starts.deallocate()
        lengths.deallocate()
        ordinals.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    /// Full at `capacity` records, rejected ones included, or sooner past ``byteBudget``
    /// bytes, so that a batch of records at the size limit stays small (and its Int32
    /// offsets cannot overflow).
    var isFull: Bool { count >= capacity || bytes.count >= Self.byteBudget }
    static let byteBudget = 16 << 20

    /// Opens a record (the next slot) whose fields are all absent until set.
    @inline(__always) package func beginRecord() {
        (starts + count * Self.width).update(repeating: -1, count: Self.width)
    }

    @inline(__always) func setField(_ column: ScoreColumn, _ pointer: UnsafeRawPointer, _ length: Int) {
        let slot = count * Self.width + column.rawValue
        starts[slot] = Int32(bytes.count)
        lengths[slot] = Int32(length)
        bytes.reserve(length + 1)
        bytes.append(pointer, length)
        bytes.appendByte(0)
    }

    package func setField(_ column: ScoreColumn, _ value: [UInt8]) {
        value.withUnsafeBytes { setField(column, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count) }
    }

    /// Whether the open record already has this field (a JSON object naming it twice).
    func hasField(_ column: ScoreColumn) -> Bool { starts[count * Self.width + column.rawValue] >= 0 }

    @inline(__always) package func commitRecord(_ ordinal: Int) {
        ordinals[count] = ordinal
        count += 1
    }

    /// Closes the open record as rejected by the parser: it keeps the fields read so far.
    package func rejectRecord(_ ordinal: Int, _ error: RowError) {
        faults.append((count, error))
        commitRecord(ordinal)
    }

    /// The parser's error for a record it rejected; nil for a record it formed.
    package func fault(_ record: Int) -> RowError? {
        faults.first { $0.record == record }?.error
    }

    /// The parser's errors, in record order.
    package var errors: [RowError] { faults.map(\.error) }

    package func location(_ record: Int) -> RowLocation { byLine ? .line(ordinals[record]) : .record(ordinals[record]) }
    @inline(__always) package func ordinal(_ record: Int) -> Int { ordinals[record] }

    /// The bytes of a field, or nil when absent; valid while the batch lives.
    @inline(__always) func field(_ record: Int, _ column: ScoreColumn) -> (UnsafePointer<UInt8>, Int)? {
        let slot = record * Self.width + column.rawValue
        let start = Int(starts[slot])
        guard start >= 0 else { return nil }
        return (UnsafePointer(bytes.base.assumingMemoryBound(to: UInt8.self)) + start, Int(lengths[slot]))
    }

    /// The text of a field, for messages.
    package func text(record: Int, column: ScoreColumn) -> String? {
        field(record, column).map { String(decoding: UnsafeBufferPointer(start: $0.0, count: $0.1), as: UTF8.self) }
    }
}
