import CCSV
import Foundation

/// Parses CSV with libcsv in strict mode into ``RecordBatch``es.
///
/// RFC 4180 quoting, commas and newlines inside quoted fields, CRLF, a UTF-8 byte-order
/// mark; the header row names the columns in any order; an empty unquoted field is NULL
/// (an empty quoted one is an empty string). libcsv calls back per field and per record;
/// the callbacks are non-capturing C functions that find this object again through the
/// context pointer, and an error found inside them is kept and thrown after `csv_parse`
/// returns.
final class CSVRecordParser {
    private let parser: UnsafeMutablePointer<csv_parser>
    private let file: InputFile
    private let fileIndex: Int
    private let batchSize: Int
    private let ignoreUnknownFields: Bool
    private let emit: (RecordBatch) throws -> Void
    let notices: (String) -> Void

    private var header: [String]?
    /// Input field index → ScoreColumn raw value, or -1 to drop the field.
    private var columnOf: [Int] = []
    private var batch: RecordBatch
    private var fieldIndex = 0
    private var line = 1
    private var recordLine = 1
    private var atStart = true
    private var failure: RowError?

    init(file: InputFile, fileIndex: Int, batchSize: Int, ignoreUnknownFields: Bool,
         notices: @escaping (String) -> Void, emit: @escaping (RecordBatch) throws -> Void) throws {
        self.file = file
        self.fileIndex = fileIndex
        self.batchSize = batchSize
        self.ignoreUnknownFields = ignoreUnknownFields
        self.notices = notices
        self.emit = emit
        batch = RecordBatch(fileIndex: fileIndex, byLine: true, capacity: batchSize)
        parser = .allocate(capacity: 1)
        guard csv_init(parser, UInt8(CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_EMPTY_IS_NULL)) == 0 else {
            parser.deallocate()
            throw GreyoakError(.failure, "cannot start the CSV parser")
        }
        // Large blocks: libcsv grows its field buffer in these steps.
        csv_set_blk_size(parser, 1 << 16)
    }

    deinit {
        csv_free(parser)
        parser.deallocate()
    }

    /// Parses one chunk; emits full batches as they fill.
    func feed(_ chunk: [UInt8]) throws {
        try chunk.withUnsafeBytes { buffer in
            var base = buffer.baseAddress!
            var count = buffer.count
            if atStart {
                atStart = false
                if count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
                    base += 3
                    count -= 3
                }
            }
            let context = Unmanaged.passUnretained(self).toOpaque()
            let parsed = csv_parse(parser, base, count, fieldCallback, recordCallback, context)
            try rethrow()
            if parsed != count {
                throw error(at: line, "malformed CSV: \(String(cString: csv_strerror(csv_error(parser)))): a quote inside an unquoted field, or text after a closing quote (RFC 4180)")
            }
        }
    }

    /// Ends the input: the last record without a newline, and the last batch.
    func finish() throws {
        let context = Unmanaged.passUnretained(self).toOpaque()
        let status = csv_fini(parser, fieldCallback, recordCallback, context)
        try rethrow()
        if status != 0 {
            throw error(at: line, "unterminated quoted field: a quote opened here is never closed")
        }
        if header == nil {
            throw error(at: 1, "the file is empty: a header row naming the columns is required")
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

    private func error(at line: Int, _ rule: String, column: String? = nil, value: String? = nil) -> RowError {
        RowError(file: file.name, fileIndex: fileIndex, location: .line(line), column: column, value: value, rule: rule, isFatal: true)
    }

    // MARK: Callbacks

    fileprivate func field(_ data: UnsafeMutableRawPointer?, _ length: Int) {
        if failure != nil { return }
        if fieldIndex == 0 {
            recordLine = line
            if header != nil { batch.beginRecord() }
        }
        if let data, memchr(data, 0x0A, length) != nil {
            line += UnsafeRawBufferPointer(start: data, count: length).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        if header == nil {
            headerFields.append(data.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? "")
        } else if fieldIndex < columnOf.count {
            let column = columnOf[fieldIndex]
            if column >= 0, let data { batch.setField(column, data, length) }
        }
        fieldIndex += 1
    }

    private var headerFields: [String] = []

    fileprivate func record(_ terminator: Int32) {
        if failure != nil { return }
        defer {
            fieldIndex = 0
            if terminator == 0x0A { line += 1 }
        }
        if fieldIndex == 0 { return }  // an empty line
        guard let header else {
            do { try readHeader() } catch let error as RowError { failure = error } catch {}
            return
        }
        if fieldIndex != header.count {
            batch.errors.append(RowError(file: file.name, fileIndex: fileIndex, location: .line(recordLine), column: nil, value: nil,
                                         rule: "has \(fieldIndex) fields, the header has \(header.count)"))
        } else {
            batch.commitRecord(recordLine)
        }
        if batch.isFull {
            do { try emit(batch) } catch let error as RowError { failure = error } catch {
                failure = RowError(file: file.name, fileIndex: fileIndex, location: .file, rule: "\(error)", isFatal: true)
            }
            batch = RecordBatch(fileIndex: fileIndex, byLine: true, capacity: batchSize)
        }
    }

    private func readHeader() throws {
        let names = headerFields
        var columns: [Int] = []
        var seen: [ScoreColumn: String] = [:]
        var ignored: [String] = []
        for name in names {
            switch ScoreColumn.meaning(ofField: name) {
            case let .column(column):
                if let other = seen[column] {
                    throw error(at: recordLine, "column \(column.name) is named twice in the header (\"\(other)\" and \"\(name)\")", column: name)
                }
                seen[column] = name
                columns.append(column.rawValue)
            case .ignored:
                ignored.append(name)
                columns.append(-1)
            case .unknown:
                if !ignoreUnknownFields {
                    throw error(at: recordLine, "unknown field \"\(name)\": not a scores column (use --ignore-unknown-fields to drop it)",
                                column: name, value: "")
                }
                ignored.append(name)
                columns.append(-1)
            }
        }
        if let missing = ScoreColumn.required.first(where: { seen[$0] == nil }) {
            throw error(at: recordLine, "the header has no \(missing.name) column, which is required (columns: \(names.joined(separator: ", ")))")
        }
        if !ignored.isEmpty {
            notices("\(file.name): ignoring fields with no scores column: \(ignored.joined(separator: ", "))")
        }
        header = names
        columnOf = columns
    }
}

private func fieldCallback(_ data: UnsafeMutableRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    Unmanaged<CSVRecordParser>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.field(data, length) }
}

private func recordCallback(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    Unmanaged<CSVRecordParser>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.record(terminator) }
}
