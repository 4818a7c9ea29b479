import Foundation
import GreyoakPostgres

/// Reads score objects from JSON into ``RecordBatch``es as the bytes arrive, building no
/// tree: a ``JSONScanner`` reports tokens, and each field's bytes go straight into the batch,
/// as in the CSV path.
///
/// Accepts a top-level array of objects, NDJSON (one object per line), and a top-level
/// object: the API's by-band wrapper `{"stocks": [...], "statistics": {...}}` or a single
/// score object. Field names may be `scores` columns or the API's (`date`, `score`,
/// `pillars.F`, `guardrail_flags`); `pillars` is flattened. A field whose value is an array
/// or object (a guardrail list) is kept as compact JSON text for the validator.
///
/// Refused: anything that is not strict JSON (see ``JSONScanner``), nesting deeper than 64,
/// a record longer than `maxRecordBytes`, a member named twice in one object, and a NUL
/// character in a field.
///
/// This file holds the state and the records; the scanner's events (keys, values, nesting,
/// and the compact text of a field's array or object value) are handled in
/// `JSONRecordParser+Events.swift`, which is why the state is not `private`.
package final class JSONRecordParser: JSONEventHandler {
    /// What the container at a depth is to us.
    enum Role {
        /// An array whose elements are score records.
        case records
        /// A score record's object.
        case record
        /// A record's `pillars` object.
        case pillars
        /// Inside a field's array or object value, copied as compact text.
        case capture
        /// Read and dropped.
        case skip
    }

    /// What the next value means, from the key before it.
    enum Slot {
        case column(ScoreColumn)
        case pillars
        case stocks
        case skip
    }

    let file: InputFile
    let fileIndex: Int
    let batchSize: Int
    let ignoreUnknownFields: Bool
    let notices: (String) -> Void
    let emit: (RecordBatch) throws -> Void
    let scanner: JSONScanner

    var batch: RecordBatch
    var recordNumber = 0
    /// Containers open, and each one's role (index = depth; a buffer, read per token with no
    /// retain or bounds check).
    var depth = 0
    let roles: UnsafeMutablePointer<Role>
    /// Keys seen per open object where duplicates are looked for in a set (index = depth).
    var keySets: [Set<[UInt8]>]
    /// The depth of the open record's object, or -1.
    var recordDepth = -1
    /// Whether the top-level object proved to be the API's wrapper (it has a `"stocks"` array).
    var isWrapper = false
    var deferredUnknown: String?
    var slot = Slot.skip
    /// The first thing wrong with the open record; it is rejected when it closes.
    var recordError: RowError?

    /// Compact text of a field's array or object value (or of a non-object record).
    let capture = ByteBuffer(capacity: 256)
    /// The depth of the container being captured; -1 when not capturing.
    var captureDepth = -1
    /// The column it goes to, or nil: a record that is not an object (for its error).
    var captureColumn: ScoreColumn?
    var captureNeedsComma = false

    /// What member names mean, and the names dropped.
    let keys = JSONKeyTable()

    package init(file: InputFile, fileIndex: Int, batchSize: Int, ignoreUnknownFields: Bool, maxRecordBytes: Int = IngestOptions.defaultMaxRecordBytes,
         notices: @escaping (String) -> Void, emit: @escaping (RecordBatch) throws -> Void) {
        self.file = file
        self.fileIndex = fileIndex
        self.batchSize = batchSize
        self.ignoreUnknownFields = ignoreUnknownFields
        self.notices = notices
        self.emit = emit
        scanner = JSONScanner(multipleValues: file.format == .ndjson, maxSegmentBytes: maxRecordBytes)
        roles = .allocate(capacity: scanner.maxDepth + 1)
        roles.initialize(repeating: .skip, count: scanner.maxDepth + 1)
        keySets = Array(repeating: [], count: scanner.maxDepth + 1)
        batch = RecordBatch(fileIndex: fileIndex, byLine: false, capacity: batchSize)
    }

    deinit {
        roles.deallocate()
    }

    package func feed(_ chunk: [UInt8]) throws {
        try located { try chunk.withUnsafeBytes { try scanner.feed($0, into: self) } }
    }

    package func finish() throws {
        try located { try scanner.finish(into: self) }
        if !batch.isEmpty { try emit(batch) }
        if !keys.ignored.isEmpty { notices("\(file.name): ignoring fields with no scores column: \(keys.ignored.sorted().joined(separator: ", "))") }
    }

    /// Turns a scanner failure into an error located at the record it is in (or, between
    /// records of a JSON file, the line).
    func located(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as JSONScanner.Failure {
            let inRecord = recordDepth >= 0 || captureDepth >= 0 && captureColumn == nil
            if inRecord || file.format == .ndjson {
                let number = inRecord || depth > 0 ? recordNumber : recordNumber + 1
                let rule: RowError.Rule = failure.isLimit ? .recordTooLong(limit: scanner.maxSegmentBytes)
                    : .malformedJSON(line: failure.line, message: failure.message)
                throw RowError(file: file.name, fileIndex: fileIndex, location: .record(max(1, number)), rule: rule, isFatal: true)
            }
            let rule: RowError.Rule = failure.isLimit ? .recordTooLong(limit: scanner.maxSegmentBytes)
                : .malformedJSON(line: nil, message: failure.message)
            throw RowError(file: file.name, fileIndex: fileIndex, location: .line(failure.line), rule: rule, isFatal: true)
        }
    }

    func fatal(_ message: String) -> JSONScanner.Failure { JSONScanner.Failure(line: scanner.line, message: message) }

    // MARK: Records

    /// Whether the object at the current depth is a JSON file's top-level object: a score
    /// record, or the API's wrapper, which only a `"stocks"` member tells.
    var isTopObject: Bool { !scanner.multipleValues && depth == 1 }

    func beginRecord() {
        recordNumber += 1
        batch.beginRecord()
        recordDepth = depth
        recordError = nil
        keys.beginRecord()
        if !keySets[depth].isEmpty { keySets[depth].removeAll(keepingCapacity: true) }
        scanner.segmentStart = scanner.offset
    }

    /// - Parameter top: Whether it is the top-level object that ended.
    func endRecord(top: Bool) throws {
        recordDepth = -1
        scanner.segmentStart = scanner.offset
        if top {
            if isWrapper { return }
            if let name = deferredUnknown { throw unknownField(name) }
        }
        if let recordError {
            batch.rejectRecord(recordNumber, recordError)
        } else {
            batch.commitRecord(recordNumber)
        }
        try emitIfFull()
    }

    func emitIfFull() throws {
        if batch.isFull {
            try emit(batch)
            batch = RecordBatch(fileIndex: fileIndex, byLine: false, capacity: batchSize)
        }
    }

    func reject(_ rule: RowError.Rule, column: String? = nil) {
        if recordError == nil {
            recordError = RowError(file: file.name, fileIndex: fileIndex, location: .record(recordNumber), column: column, value: nil, rule: rule)
        }
    }

    func unknownField(_ name: String) -> RowError {
        RowError(file: file.name, fileIndex: fileIndex, location: .record(recordNumber), column: name, value: "",
                 rule: .unknownField(name), isFatal: true)
    }

    /// Where a value starting now belongs.
    enum Target {
        case record, top, column(ScoreColumn), pillars, stocks, capture, skip
    }

    var target: Target {
        if depth == 0 { return scanner.multipleValues ? .record : .top }
        switch roles[depth] {
        case .records: return .record
        case .record, .pillars:
            switch slot {
            case let .column(column): return .column(column)
            case .pillars: return .pillars
            case .stocks: return .stocks
            case .skip: return .skip
            }
        case .capture: return .capture
        case .skip: return .skip
        }
    }

    static func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
        JSONValue.quote(String(decoding: bytes.prefix(80), as: UTF8.self))
    }
}
