internal import CCSV
import Foundation
import GreyoakPostgres

/// Parses CSV with libcsv in strict mode into ``RecordBatch``es.
///
/// RFC 4180 quoting, commas and newlines inside quoted fields, CRLF, a UTF-8 byte-order
/// mark; the header row names the columns in any order; an empty unquoted field is NULL
/// (an empty quoted one is an empty string), and libcsv trims spaces and tabs around
/// unquoted fields. libcsv calls back per field and per record; the callbacks are
/// non-capturing C functions that find this object again through the context pointer, and
/// an error found inside them is kept and thrown after `csv_parse` returns.
///
/// **Plain lines skip libcsv.** libcsv reads a byte at a time (about 40 instructions a
/// byte, most of a dry run's time). A line that starts a record and holds no quote, no tab,
/// no carriage return but a final one, and no field with a space at either end reads the
/// same split on commas, so it is split here with `memchr`; every other line, and the rest
/// of any record libcsv has begun, goes to libcsv, whose state carries across chunks. A
/// unit test parses tricky inputs both ways, at every chunk size, and compares.
///
/// **Bounded.** A record may take at most `maxRecordBytes` of input: counted as the bytes go
/// to libcsv (which buffers a field whole), so that a field of gigabytes is refused once it
/// passes the limit, not after it has been buffered. A field holding a NUL byte or bytes that
/// are not UTF-8 rejects its record with an error naming the column (checked per line first,
/// eight bytes at a time, so plain lines cost almost nothing).
package final class CSVRecordParser {
    private let parser: UnsafeMutablePointer<csv_parser>
    private let file: InputFile
    private let fileIndex: Int
    private let batchSize: Int
    private let ignoreUnknownFields: Bool
    private let maxRecordBytes: Int
    private let emit: (RecordBatch) throws -> Void
    let notices: (String) -> Void

    /// Fields in the header row; -1 until it has been read.
    private var headerCount = -1
    /// Input field index → its column, or nil to drop the field; `headerCount` entries. A
    /// buffer, not an array: read per field with no retain and no bounds check.
    private var columns: UnsafeMutablePointer<ScoreColumn?>
    private var batch: RecordBatch
    private var fieldIndex = 0
    private var line = 1
    private var recordLine = 1
    /// Bytes given to libcsv since the last record ended (an upper bound on what it buffers).
    private var pendingBytes = 0
    /// Whether the fields being stored must be checked for NUL and UTF-8 (the line has a NUL
    /// or a byte above 0x7F, or libcsv reads it).
    private var checkFields = true
    /// The first thing wrong with the open record; it is rejected when it ends.
    private var recordError: RowError?
    /// The first bytes, held back until there are three to tell a UTF-8 byte-order mark by
    /// (a chunk can be shorter); nil once they have been told.
    private var head: [UInt8]? = []
    private var failure: RowError? {
        didSet { failed = failure != nil }
    }
    /// `failure != nil`, read per field without copying the error.
    private var failed = false
    /// Off only in tests, to compare with libcsv alone.
    private let splitsPlainLines: Bool
    /// Start and end offsets of the fields of the line being split: a buffer, not an array,
    /// so that the hot loop pays no exclusivity checks. A line with more fields goes to libcsv.
    private let bounds: UnsafeMutablePointer<Int>
    private static let maxSplitFields = 128

    package init(file: InputFile, fileIndex: Int, batchSize: Int, ignoreUnknownFields: Bool, splitsPlainLines: Bool = true,
         maxRecordBytes: Int = IngestOptions.defaultMaxRecordBytes, notices: @escaping (String) -> Void, emit: @escaping (RecordBatch) throws -> Void) throws {
        // libcsv first, before any property is set: a throw from a fully initialised object
        // would run `deinit`, which frees what it owns a second time.
        let parser = UnsafeMutablePointer<csv_parser>.allocate(capacity: 1)
        guard csv_init(parser, UInt8(CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_EMPTY_IS_NULL)) == 0 else {
            parser.deallocate()
            throw GreyoakError(.failure, "cannot start the CSV parser")
        }
        // Large blocks: libcsv grows its field buffer in these steps.
        csv_set_blk_size(parser, 1 << 16)
        self.parser = parser
        self.splitsPlainLines = splitsPlainLines
        self.file = file
        self.fileIndex = fileIndex
        self.batchSize = batchSize
        self.ignoreUnknownFields = ignoreUnknownFields
        self.maxRecordBytes = maxRecordBytes
        self.notices = notices
        self.emit = emit
        batch = RecordBatch(fileIndex: fileIndex, byLine: true, capacity: batchSize)
        columns = .allocate(capacity: 1)
        bounds = .allocate(capacity: 2 * Self.maxSplitFields)
    }

    deinit {
        bounds.deallocate()
        columns.deallocate()
        csv_free(parser)
        parser.deallocate()
    }

    /// Parses one chunk; emits full batches as they fill.
    package func feed(_ chunk: [UInt8]) throws {
        guard var held = head else { return try consume(chunk) }
        held += chunk
        guard held.count >= 3 else {
            head = held
            return
        }
        head = nil
        try consume(held.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(held.dropFirst(3)) : held)
    }

    private func consume(_ chunk: [UInt8]) throws {
        try chunk.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            guard splitsPlainLines else { return try parse(base, buffer.count) }
            var position = base
            let end = base + buffer.count
            while position < end, !failed {
                guard let newline = memchr(position, 0x0A, end - position) else {
                    try parse(position, end - position)
                    break
                }
                let lineEnd = UnsafeRawPointer(newline) + 1
                // pstate 0 (ROW_NOT_BEGUN): libcsv is between records.
                if parser.pointee.pstate != 0 || !splitPlainLine(position, UnsafeRawPointer(newline) - position) {
                    try parse(position, lineEnd - position)
                }
                position = lineEnd
            }
            try rethrow()
        }
    }

    /// Hands bytes to libcsv.
    private func parse(_ start: UnsafeRawPointer, _ count: Int) throws {
        pendingBytes += count
        if pendingBytes > maxRecordBytes { throw tooLong() }
        checkFields = true
        let context = Unmanaged.passUnretained(self).toOpaque()
        let parsed = csv_parse(parser, start, count, fieldCallback, recordCallback, context)
        try rethrow()
        if parsed != count {
            throw error(at: line, .malformedCSV(reason: String(cString: csv_strerror(csv_error(parser)))))
        }
    }

    /// Reads one line (its newline excluded) that starts a record by splitting it on commas,
    /// when libcsv would read it the same way; false, having read nothing, when it would not.
    private func splitPlainLine(_ start: UnsafeRawPointer, _ length: Int) -> Bool {
        if length > maxRecordBytes { return false }  // libcsv's path counts it and refuses it
        var length = length
        if length > 0, start.load(fromByteOffset: length - 1, as: UInt8.self) == 0x0D { length -= 1 }
        if memchr(start, 0x22, length) != nil || memchr(start, 0x09, length) != nil || memchr(start, 0x0D, length) != nil {
            return false
        }
        if length == 0 {  // an empty line, which libcsv reports as a record without fields
            record(0x0A)
            return true
        }
        var fields = 0
        var fieldStart = 0
        while true {
            guard fields < Self.maxSplitFields else { return false }
            let comma = memchr(start + fieldStart, 0x2C, length - fieldStart)
            let fieldEnd = comma.map { UnsafeRawPointer($0) - start } ?? length
            // libcsv trims spaces at either end of an unquoted field.
            if fieldEnd > fieldStart,
               start.load(fromByteOffset: fieldStart, as: UInt8.self) == 0x20 || start.load(fromByteOffset: fieldEnd - 1, as: UInt8.self) == 0x20 {
                return false
            }
            bounds[2 * fields] = fieldStart
            bounds[2 * fields + 1] = fieldEnd
            fields += 1
            guard comma != nil else { break }
            fieldStart = fieldEnd + 1
        }
        checkFields = !UTF8Sequence.isPlainASCII(start, count: length)
        let batch = self.batch
        for index in 0..<fields {
            let fieldStart = bounds[2 * index], fieldEnd = bounds[2 * index + 1]
            store(fieldEnd > fieldStart ? UnsafeMutableRawPointer(mutating: start + fieldStart) : nil, fieldEnd - fieldStart, into: batch)
        }
        record(0x0A)
        return true
    }

    /// Ends the input: the last record without a newline, and the last batch.
    package func finish() throws {
        if let held = head {  // fewer than three bytes in all
            head = nil
            try consume(held)
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        let status = csv_fini(parser, fieldCallback, recordCallback, context)
        try rethrow()
        if status != 0 {
            throw error(at: line, .unterminatedQuote)
        }
        if headerCount < 0 {
            throw error(at: 1, .emptyFile)
        }
        if !batch.isEmpty { try emit(batch) }
        batch = RecordBatch(fileIndex: fileIndex, byLine: true, capacity: 1)
    }

    private func rethrow() throws {
        if let failure {
            self.failure = nil
            throw failure
        }
    }

    private func tooLong() -> RowError {
        // Before its first field is complete, a record starts on the current line.
        error(at: fieldIndex == 0 ? line : recordLine, .recordTooLong(limit: maxRecordBytes))
    }

    private func error(at line: Int, _ rule: RowError.Rule, column: String? = nil, value: String? = nil) -> RowError {
        RowError(file: file.name, fileIndex: fileIndex, location: .line(line), column: column, value: value, rule: rule, isFatal: true)
    }

    // MARK: Callbacks

    fileprivate func field(_ data: UnsafeMutableRawPointer?, _ length: Int) {
        let startLine = line
        if let data, memchr(data, 0x0A, length) != nil {
            line += UnsafeRawBufferPointer(start: data, count: length).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        store(data, length, startLine: startLine)
    }

    /// Takes one field (nil: empty and unquoted, so NULL); `startLine` is the line it began on.
    @inline(__always) private func store(_ data: UnsafeMutableRawPointer?, _ length: Int, startLine: Int? = nil) {
        store(data, length, into: batch, startLine: startLine)
    }

    /// `batch` is ``batch``, passed in so that a caller storing many fields reads the
    /// property (a retain and a release) once, not once per field.
    @inline(__always) private func store(_ data: UnsafeMutableRawPointer?, _ length: Int, into batch: RecordBatch, startLine: Int? = nil) {
        if failed { return }
        if fieldIndex == 0 {
            recordLine = startLine ?? line
            if headerCount >= 0 { batch.beginRecord() }
        }
        if checkFields, let data, headerCount >= 0 { checkField(data, length) }
        if headerCount < 0 {
            headerFields.append(data.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? "")
        } else if fieldIndex < headerCount {
            if let column = columns[fieldIndex], let data { batch.setField(column, data, length) }
        }
        fieldIndex += 1
    }

    private var headerFields: [String] = []

    /// Rejects the record when a field holds a NUL byte or is not UTF-8 (PostgreSQL text can
    /// hold neither), naming the column.
    private func checkField(_ data: UnsafeMutableRawPointer, _ length: Int) {
        guard recordError == nil, !UTF8Sequence.isPlainASCII(data, count: length) else { return }
        let problem: RowError.Rule
        if let nul = memchr(data, 0, length) {
            problem = .containsNUL(position: UnsafeMutableRawPointer(nul) - data + 1)
        } else if let bad = UTF8Sequence.firstInvalid(data.assumingMemoryBound(to: UInt8.self), count: length) {
            problem = .notUTF8(byte: data.load(fromByteOffset: bad, as: UInt8.self), position: bad + 1)
        } else {
            return
        }
        let column = fieldIndex < headerFields.count ? headerFields[fieldIndex] : "#\(fieldIndex + 1)"
        recordError = RowError(file: file.name, fileIndex: fileIndex, location: .line(recordLine), column: column, value: nil, rule: problem)
    }

    fileprivate func record(_ terminator: Int32) {
        if failed { return }
        defer {
            fieldIndex = 0
            recordError = nil
            if terminator == 0x0A { line += 1 }
        }
        pendingBytes = 0
        if fieldIndex == 0 { return }  // an empty line
        guard headerCount >= 0 else {
            do { try readHeader() } catch let error as RowError { failure = error } catch {}
            return
        }
        if fieldIndex != headerCount {
            batch.rejectRecord(recordLine, RowError(file: file.name, fileIndex: fileIndex, location: .line(recordLine), column: nil, value: nil,
                                                    rule: .fieldCount(found: fieldIndex, header: headerCount)))
        } else if let recordError {
            batch.rejectRecord(recordLine, recordError)
        } else {
            batch.commitRecord(recordLine)
        }
        if batch.isFull {
            do { try emit(batch) } catch let error as RowError { failure = error } catch {
                failure = RowError(file: file.name, fileIndex: fileIndex, location: .file, rule: .other("\(error)"), isFatal: true)
            }
            batch = RecordBatch(fileIndex: fileIndex, byLine: true, capacity: batchSize)
        }
    }

    private func readHeader() throws {
        let names = headerFields
        var columns: [ScoreColumn?] = []
        var seen: [ScoreColumn: String] = [:]
        var ignored: [String] = []
        for name in names {
            switch ScoreColumn.meaning(ofField: name) {
            case let .column(column):
                if let other = seen[column] {
                    throw error(at: recordLine, .headerNamesColumnTwice(column: column.name, first: other, second: name), column: name)
                }
                seen[column] = name
                columns.append(column)
            case .ignored:
                ignored.append(name)
                columns.append(nil)
            case .unknown:
                if !ignoreUnknownFields {
                    throw error(at: recordLine, .unknownField(name), column: name, value: "")
                }
                ignored.append(name)
                columns.append(nil)
            }
        }
        if let missing = ScoreColumn.required.first(where: { seen[$0] == nil }) {
            throw error(at: recordLine, .headerLacksColumn(column: missing.name, header: names))
        }
        if !ignored.isEmpty {
            notices("\(file.name): ignoring fields with no scores column: \(ignored.joined(separator: ", "))")
        }
        self.columns.deallocate()
        self.columns = .allocate(capacity: max(1, columns.count))
        self.columns.initialize(from: columns, count: columns.count)
        headerCount = names.count
    }
}

private func fieldCallback(_ data: UnsafeMutableRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    Unmanaged<CSVRecordParser>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.field(data, length) }
}

private func recordCallback(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    Unmanaged<CSVRecordParser>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.record(terminator) }
}
