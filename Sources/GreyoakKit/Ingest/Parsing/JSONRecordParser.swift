import Foundation

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
final class JSONRecordParser: JSONEventHandler {
    /// What the container at a depth is to us.
    private enum Role {
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
    private enum Slot {
        case column(Int)
        case pillars
        case stocks
        case skip
    }

    /// A key's meaning, cached per position in a record: a column's raw value, or one of these.
    private static let meansPillars: Int32 = -1, meansIgnored: Int32 = -2, meansUnknown: Int32 = -3
    private static let cacheSlots = 64, cacheKeyBytes = 64

    private let file: InputFile
    private let fileIndex: Int
    private let batchSize: Int
    private let ignoreUnknownFields: Bool
    private let notices: (String) -> Void
    private let emit: (RecordBatch) throws -> Void
    private let scanner: JSONScanner

    private var batch: RecordBatch
    private var recordNumber = 0
    /// Containers open, and each one's role (index = depth; a buffer, read per token with no
    /// retain or bounds check).
    private var depth = 0
    private let roles: UnsafeMutablePointer<Role>
    /// Keys seen per open object where duplicates are looked for in a set (index = depth).
    private var keySets: [Set<[UInt8]>]
    /// The depth of the open record's object, or -1.
    private var recordDepth = -1
    /// Whether the top-level object proved to be the API's wrapper (it has a `"stocks"` array).
    private var isWrapper = false
    private var deferredUnknown: String?
    private var slot = Slot.skip
    /// The first thing wrong with the open record; it is rejected when it closes.
    private var recordError: RowError?

    /// Compact text of a field's array or object value (or of a non-object record).
    private let capture = ByteBuffer(capacity: 256)
    /// The depth of the container being captured; -1 when not capturing.
    private var captureDepth = -1
    /// The column it goes to, or -1: a record that is not an object (for its error).
    private var captureColumn = -1
    private var captureNeedsComma = false

    /// Key cache, by position in a record (and in its `pillars`): records repeat their keys
    /// in the same order, so a key costs one `memcmp`.
    private let cachedKeys: UnsafeMutablePointer<UInt8>
    private let cachedLengths: UnsafeMutablePointer<Int>
    private let cachedMeanings: UnsafeMutablePointer<Int32>
    private var keyOrdinal = 0
    private var pillarOrdinal = 0
    private var ignored = Set<String>()

    init(file: InputFile, fileIndex: Int, batchSize: Int, ignoreUnknownFields: Bool, maxRecordBytes: Int = IngestOptions.defaultMaxRecordBytes,
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
        let slots = 2 * Self.cacheSlots
        cachedKeys = .allocate(capacity: slots * Self.cacheKeyBytes)
        cachedLengths = .allocate(capacity: slots)
        cachedLengths.initialize(repeating: -1, count: slots)
        cachedMeanings = .allocate(capacity: slots)
        cachedMeanings.initialize(repeating: 0, count: slots)
    }

    deinit {
        roles.deallocate()
        cachedKeys.deallocate()
        cachedLengths.deallocate()
        cachedMeanings.deallocate()
    }

    func feed(_ chunk: [UInt8]) throws {
        try located { try chunk.withUnsafeBytes { try scanner.feed($0, into: self) } }
    }

    func finish() throws {
        try located { try scanner.finish(into: self) }
        if !batch.isEmpty { try emit(batch) }
        if !ignored.isEmpty { notices("\(file.name): ignoring fields with no scores column: \(ignored.sorted().joined(separator: ", "))") }
    }

    /// Turns a scanner failure into an error located at the record it is in (or, between
    /// records of a JSON file, the line).
    private func located(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as JSONScanner.Failure {
            let inRecord = recordDepth >= 0 || captureDepth >= 0 && captureColumn < 0
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

    private func fatal(_ message: String) -> JSONScanner.Failure { JSONScanner.Failure(line: scanner.line, message: message) }

    // MARK: Records

    /// Whether the object at the current depth is a JSON file's top-level object: a score
    /// record, or the API's wrapper, which only a `"stocks"` member tells.
    private var isTopObject: Bool { !scanner.multipleValues && depth == 1 }

    private func beginRecord() {
        recordNumber += 1
        batch.beginRecord()
        recordDepth = depth
        recordError = nil
        keyOrdinal = 0
        if !keySets[depth].isEmpty { keySets[depth].removeAll(keepingCapacity: true) }
        scanner.segmentStart = scanner.offset
    }

    /// - Parameter top: Whether it is the top-level object that ended.
    private func endRecord(top: Bool) throws {
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

    private func emitIfFull() throws {
        if batch.isFull {
            try emit(batch)
            batch = RecordBatch(fileIndex: fileIndex, byLine: false, capacity: batchSize)
        }
    }

    private func reject(_ rule: RowError.Rule, column: String? = nil) {
        if recordError == nil {
            recordError = RowError(file: file.name, fileIndex: fileIndex, location: .record(recordNumber), column: column, value: nil, rule: rule)
        }
    }

    private func unknownField(_ name: String) -> RowError {
        RowError(file: file.name, fileIndex: fileIndex, location: .record(recordNumber), column: name, value: "",
                 rule: .unknownField(name), isFatal: true)
    }

    /// Where a value starting now belongs.
    private enum Target {
        case record, top, column(Int), pillars, stocks, capture, skip
    }

    private var target: Target {
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

    // MARK: Events

    func beginObject() throws { try begin(object: true) }
    func beginArray() throws { try begin(object: false) }

    private func begin(object: Bool) throws {
        let target = self.target
        depth += 1
        switch target {
        case .record, .top:
            if object {
                roles[depth] = .record
                beginRecord()
            } else if case .top = target {
                roles[depth] = .records
            } else {
                recordNumber += 1
                startCapture(column: -1, object: false)
            }
        case let .column(column):
            if duplicate(column) { roles[depth] = .skip } else { startCapture(column: column, object: object) }
        case .pillars:
            if object {
                roles[depth] = .pillars
                pillarOrdinal = 0
            } else {
                try unknown("pillars", deferrable: !scanner.multipleValues && depth == 2)
                roles[depth] = .skip
            }
        case .stocks:
            guard !object else { throw fatal("\"stocks\" is not an array of score objects") }
            // The wrapper is not a record: its stocks count from 1.
            isWrapper = true
            recordNumber = 0
            recordDepth = -1
            roles[depth] = .records
        case .capture:
            appendCaptureSeparator()
            capture.appendByte(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
            captureNeedsComma = false
            roles[depth] = .capture
        case .skip:
            roles[depth] = .skip
        }
        if object, roles[depth] != .record, !keySets[depth].isEmpty { keySets[depth].removeAll(keepingCapacity: true) }
    }

    func endObject() throws { try end(object: true) }
    func endArray() throws { try end(object: false) }

    private func end(object: Bool) throws {
        let role = roles[depth]
        depth -= 1
        switch role {
        case .record:
            try endRecord(top: !scanner.multipleValues && depth == 0)
        case .capture:
            capture.appendByte(object ? UInt8(ascii: "}") : UInt8(ascii: "]"))
            captureNeedsComma = true
            if depth + 1 == captureDepth { try endCapture() }
        case .records, .pillars, .skip:
            break
        }
    }

    func key(_ bytes: UnsafeRawBufferPointer) throws {
        switch roles[depth] {
        case .record:
            let top = isTopObject
            if top {
                // The top-level object: a score record, or the API's wrapper; every member
                // name is kept to tell a repeated one.
                guard keySets[depth].insert(Array(bytes)).inserted else {
                    throw fatal("member \(Self.quoted(bytes)) appears twice in one object")
                }
                if isWrapper {
                    slot = .skip
                    return
                }
                if bytes.elementsEqual("stocks".utf8) {
                    slot = .stocks
                    return
                }
            }
            let meaning = lookUp(bytes, pillars: false)
            if meaning >= 0 {
                slot = .column(Int(meaning))
                return
            }
            if !top, !keySets[depth].insert(Array(bytes)).inserted {
                reject(.memberNamedTwice(name: String(decoding: bytes, as: UTF8.self)))
            }
            slot = meaning == Self.meansPillars ? .pillars : .skip
            if meaning == Self.meansUnknown { try unknown(String(decoding: bytes, as: UTF8.self), deferrable: top) }
        case .pillars:
            let meaning = lookUp(bytes, pillars: true)
            if meaning >= 0 {
                slot = .column(Int(meaning))
                return
            }
            slot = .skip
            if !keySets[depth].insert(Array(bytes)).inserted {
                reject(.memberNamedTwice(name: "pillars." + String(decoding: bytes, as: UTF8.self)))
            }
            if meaning == Self.meansUnknown { try unknown("pillars." + String(decoding: bytes, as: UTF8.self), deferrable: !scanner.multipleValues && depth == 2) }
        case .capture, .skip:
            if !keySets[depth].insert(Array(bytes)).inserted {
                let name = String(decoding: bytes, as: UTF8.self)
                guard recordDepth >= 0 else { throw fatal(RowError.Rule.memberNamedTwice(name: name).description) }
                reject(.memberNamedTwice(name: name))
            }
            if roles[depth] == .capture {
                appendCaptureSeparator()
                appendQuoted(bytes)
                capture.appendByte(UInt8(ascii: ":"))
                captureNeedsComma = false
            }
        case .records:
            preconditionFailure("keys come inside objects")
        }
    }

    /// A field no column takes: an error unless unknown fields are dropped (or, in a
    /// top-level object that may yet prove to be the API's wrapper, later).
    private func unknown(_ name: String, deferrable: Bool) throws {
        if ignoreUnknownFields {
            noteIgnored(name)
        } else if deferrable {
            if deferredUnknown == nil { deferredUnknown = name }
        } else {
            throw unknownField(name)
        }
    }

    private func noteIgnored(_ name: String) {
        // Bounded: a hostile file could name a million distinct fields.
        if ignored.count < 32 { ignored.insert(name) }
    }

    /// Whether the open record already has this column: it rejects the record, and the
    /// value is dropped.
    private func duplicate(_ column: Int) -> Bool {
        guard batch.hasField(column) else { return false }
        reject(twice: column)
        return true
    }

    private func reject(twice column: Int) {
        let name = ScoreColumn(rawValue: column)!.name
        reject(.fieldNamedTwice(column: name), column: name)
    }

    func string(_ bytes: UnsafeRawBufferPointer) throws {
        guard case let .column(column) = target else { return try other(bytes, isString: true) }
        if batch.hasField(column) { return reject(twice: column) }
        if memchr(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, 0, bytes.count) != nil {
            reject(.containsNUL(position: nil), column: ScoreColumn(rawValue: column)!.name)
            return
        }
        batch.setField(column, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, bytes.count)
    }

    func number(_ bytes: UnsafeRawBufferPointer) throws {
        guard case let .column(column) = target else { return try other(bytes, isString: false) }
        if batch.hasField(column) { return reject(twice: column) }
        batch.setField(column, bytes.baseAddress!, bytes.count)
    }

    func literal(_ value: JSONLiteral) throws {
        if case let .column(column) = target, case .null = value {
            _ = duplicate(column)
            return
        }
        let text = UnsafeRawBufferPointer(start: value.text.utf8Start, count: value.text.utf8CodeUnitCount)
        guard case let .column(column) = target else { return try other(text, isString: false) }
        if batch.hasField(column) { return reject(twice: column) }
        batch.setField(column, text.baseAddress!, text.count)
    }

    /// A string, number or literal (its unescaped text) that is not a record's field.
    private func other(_ text: UnsafeRawBufferPointer, isString: Bool) throws {
        func appendText() {
            if isString { appendQuoted(text) } else if text.count > 0 { capture.append(text.baseAddress!, text.count) }
        }
        switch target {
        case .record, .top:
            recordNumber += 1
            startCapture(column: -1, object: false, scalar: true)
            appendText()
            try endCapture()
        case .column:
            preconditionFailure("fields are stored by the callers")
        case .pillars:
            try unknown("pillars", deferrable: isTopObject)
        case .stocks:
            throw fatal("\"stocks\" is not an array of score objects")
        case .capture:
            appendCaptureSeparator()
            appendText()
            captureNeedsComma = true
        case .skip:
            break
        }
    }

    func endValue() throws {}

    // MARK: Capture

    private func startCapture(column: Int, object: Bool, scalar: Bool = false) {
        capture.removeAll()
        captureColumn = column
        captureNeedsComma = false
        if scalar {
            captureDepth = depth + 1
            return
        }
        captureDepth = depth
        roles[depth] = .capture
        capture.appendByte(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        if column < 0 { scanner.segmentStart = scanner.offset }
    }

    private func endCapture() throws {
        captureDepth = -1
        if captureColumn >= 0 {
            batch.setField(captureColumn, capture.base, capture.count)
            return
        }
        // A record that is not an object.
        let found = String(decoding: UnsafeRawBufferPointer(start: capture.base, count: min(capture.count, 40)), as: UTF8.self)
        batch.beginRecord()
        batch.rejectRecord(recordNumber, RowError(file: file.name, fileIndex: fileIndex, location: .record(recordNumber),
                                                  rule: .notAScoreObject(found: found)))
        scanner.segmentStart = scanner.offset
        try emitIfFull()
    }

    @inline(__always) private func appendCaptureSeparator() {
        if captureNeedsComma { capture.appendByte(UInt8(ascii: ",")) }
    }

    /// Appends a string as compact JSON, escaped as ``JSONValue/quote(_:)`` does.
    private func appendQuoted(_ bytes: UnsafeRawBufferPointer) {
        capture.appendByte(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                capture.appendByte(UInt8(ascii: "\\"))
                capture.appendByte(byte)
            case 0x0A: capture.append(Array("\\n".utf8))
            case 0x0D: capture.append(Array("\\r".utf8))
            case 0x09: capture.append(Array("\\t".utf8))
            case 0..<0x20:
                capture.append(Array("\\u00".utf8))
                let digits = Array("0123456789abcdef".utf8)
                capture.appendByte(digits[Int(byte >> 4)])
                capture.appendByte(digits[Int(byte & 15)])
            default:
                capture.appendByte(byte)
            }
        }
        capture.appendByte(UInt8(ascii: "\""))
    }

    // MARK: Keys

    /// A key's meaning in a record (or its `pillars`), from the cache when the record before
    /// had the same key at the same position.
    @inline(__always) private func lookUp(_ bytes: UnsafeRawBufferPointer, pillars: Bool) -> Int32 {
        let ordinal: Int
        if pillars {
            ordinal = pillarOrdinal
            pillarOrdinal += 1
        } else {
            ordinal = keyOrdinal
            keyOrdinal += 1
        }
        let cacheable = ordinal < Self.cacheSlots && bytes.count <= Self.cacheKeyBytes
        let slot = ordinal + (pillars ? Self.cacheSlots : 0)
        if cacheable, cachedLengths[slot] == bytes.count,
           bytes.count == 0 || memcmp(cachedKeys + slot * Self.cacheKeyBytes, bytes.baseAddress!, bytes.count) == 0 {
            return cachedMeanings[slot]
        }
        let name = (pillars ? "pillars." : "") + String(decoding: bytes, as: UTF8.self)
        let meaning: Int32
        if !pillars, name.lowercased() == "pillars" {
            meaning = Self.meansPillars
        } else {
            switch ScoreColumn.meaning(ofField: name) {
            case let .column(column): meaning = Int32(column.rawValue)
            case .ignored:
                meaning = Self.meansIgnored
                noteIgnored(name)
            case .unknown: meaning = Self.meansUnknown
            }
        }
        if cacheable {
            if bytes.count > 0 { (cachedKeys + slot * Self.cacheKeyBytes).update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
            cachedLengths[slot] = bytes.count
            cachedMeanings[slot] = meaning
        }
        return meaning
    }

    private static func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
        JSONValue.quote(String(decoding: bytes.prefix(80), as: UTF8.self))
    }
}
