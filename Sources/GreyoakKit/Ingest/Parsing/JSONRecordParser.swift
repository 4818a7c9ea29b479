import Foundation

/// Reads score objects from JSON into ``RecordBatch``es, streaming.
///
/// Accepts a top-level array of objects (streamed object by object, so memory stays flat),
/// NDJSON (one object per line), and a top-level object: the API's by-band wrapper
/// `{"stocks": [...], "statistics": {...}}` or a single score object (read whole). Field
/// names may be `scores` columns or the API's (`date`, `score`, `pillars.F`,
/// `guardrail_flags`); `pillars` is flattened.
final class JSONRecordParser {
    private enum State { case start, inArray, afterElement, inObject, done, ndjson }

    private let file: InputFile
    private let fileIndex: Int
    private let batchSize: Int
    private let ignoreUnknownFields: Bool
    private let notices: (String) -> Void
    private let emit: (RecordBatch) throws -> Void

    private var state: State
    private var batch: RecordBatch
    /// Bytes of the element being collected, and where it started.
    private var pending: [UInt8] = []
    private var pendingLine = 1
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var line = 1
    private var recordNumber = 0
    private var ignored = Set<String>()
    private var atStart = true

    init(file: InputFile, fileIndex: Int, batchSize: Int, ignoreUnknownFields: Bool,
         notices: @escaping (String) -> Void, emit: @escaping (RecordBatch) throws -> Void) {
        self.file = file
        self.fileIndex = fileIndex
        self.batchSize = batchSize
        self.ignoreUnknownFields = ignoreUnknownFields
        self.notices = notices
        self.emit = emit
        state = file.format == .ndjson ? .ndjson : .start
        batch = RecordBatch(fileIndex: fileIndex, byLine: false, capacity: batchSize)
    }

    func feed(_ chunk: [UInt8]) throws {
        var index = 0
        if atStart {
            atStart = false
            if chunk.count >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { index = 3 }
        }
        while index < chunk.count {
            let byte = chunk[index]
            index += 1
            switch state {
            case .ndjson:
                if byte == 0x0A {
                    try finishLine()
                    line += 1
                } else {
                    if pending.isEmpty { pendingLine = line }
                    pending.append(byte)
                }
            case .start, .inArray, .afterElement, .done:
                if byte == 0x0A { line += 1; continue }
                if byte == 0x20 || byte == 0x09 || byte == 0x0D { continue }
                try structural(byte)
            case .inObject:
                pending.append(byte)
                if byte == 0x0A { line += 1 }
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { try finishElement() }
                }
            }
        }
    }

    func finish() throws {
        switch state {
        case .ndjson:
            try finishLine()
        case .start:
            throw malformed(line, "the file has no JSON value (expected an array of score objects)")
        case .inArray, .afterElement:
            throw malformed(line, "the array is never closed with ']' (truncated file?)")
        case .inObject:
            throw malformed(pendingLine, "the object starting here is never closed (truncated file?)")
        case .done:
            break
        }
        if !batch.isEmpty { try emit(batch) }
        if !ignored.isEmpty { notices("\(file.name): ignoring fields with no scores column: \(ignored.sorted().joined(separator: ", "))") }
    }

    private var topLevelObject = false

    private func structural(_ byte: UInt8) throws {
        switch (state, byte) {
        case (.start, UInt8(ascii: "[")):
            state = .inArray
        case (.start, UInt8(ascii: "{")):
            topLevelObject = true
            beginElement(byte)
        case (.inArray, UInt8(ascii: "{")):
            beginElement(byte)
        case (.inArray, UInt8(ascii: "]")) where recordNumber == 0:
            state = .done
        case (.afterElement, UInt8(ascii: ",")):
            state = .inArray
        case (.afterElement, UInt8(ascii: "]")):
            state = .done
        case (.done, _):
            throw malformed(line, "unexpected text after the end of the JSON value")
        default:
            let expected = state == .start ? "'[' or '{'" : state == .inArray ? "a score object '{'" : "',' or ']'"
            throw malformed(line, "expected \(expected), found '\(Character(Unicode.Scalar(byte)))'")
        }
    }

    private func beginElement(_ byte: UInt8) {
        state = .inObject
        pending = [byte]
        pendingLine = line
        depth = 1
        inString = false
        escaped = false
    }

    private func finishElement() throws {
        let value = try parsePending()
        pending.removeAll(keepingCapacity: true)
        if topLevelObject {
            state = .done
            if case let .object(members) = value, let stocks = members.first(where: { $0.0 == "stocks" })?.1 {
                guard case let .array(items) = stocks else {
                    throw malformed(pendingLine, "\"stocks\" is not an array of score objects")
                }
                for item in items { try add(item, line: pendingLine) }
            } else {
                try add(value, line: pendingLine)
            }
        } else {
            state = .afterElement
            try add(value, line: pendingLine)
        }
    }

    private func finishLine() throws {
        defer { pending.removeAll(keepingCapacity: true) }
        if pending.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        try add(try parsePending(), line: pendingLine)
    }

    private func parsePending() throws -> JSONValue {
        do {
            return try pending.withUnsafeBytes { try JSONParser.parse($0) }
        } catch let failure as JSONParser.Failure {
            let errorLine = pendingLine + pending[..<min(failure.offset, pending.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            throw RowError(file: file.name, fileIndex: fileIndex, location: .record(recordNumber + 1),
                           rule: .malformedJSON(line: errorLine, message: failure.message), isFatal: true)
        }
    }

    private func malformed(_ line: Int, _ message: String) -> RowError {
        RowError(file: file.name, fileIndex: fileIndex, location: .line(line), rule: .malformedJSON(line: nil, message: message), isFatal: true)
    }

    /// Turns one score object into a record of the batch.
    private func add(_ value: JSONValue, line: Int) throws {
        recordNumber += 1
        let location = RowLocation.record(recordNumber)
        guard case let .object(members) = value else {
            batch.errors.append(RowError(file: file.name, fileIndex: fileIndex, location: location,
                                         rule: .notAScoreObject(found: String(value.compactText.prefix(40)))))
            return
        }
        batch.beginRecord()
        var flat: [(String, JSONValue)] = []
        for (key, member) in members {
            if key.lowercased() == "pillars", case let .object(pillars) = member {
                flat += pillars.map { ("pillars.\($0.0)", $0.1) }
            } else {
                flat.append((key, member))
            }
        }
        for (key, member) in flat {
            switch ScoreColumn.meaning(ofField: key) {
            case let .column(column):
                if batch.hasField(column.rawValue) {
                    batch.errors.append(RowError(file: file.name, fileIndex: fileIndex, location: location, column: key,
                                                 value: nil, rule: .fieldNamedTwice(column: column.name)))
                    return
                }
                switch member {
                case .null: continue
                case let .string(text): batch.setField(column.rawValue, Array(text.utf8))
                case let .number(text): batch.setField(column.rawValue, Array(text.utf8))
                default: batch.setField(column.rawValue, Array(member.compactText.utf8))
                }
            case .ignored:
                ignored.insert(key)
            case .unknown:
                if ignoreUnknownFields { ignored.insert(key); continue }
                throw RowError(file: file.name, fileIndex: fileIndex, location: location, column: key, value: "",
                               rule: .unknownField(key),
                               isFatal: true)
            }
        }
        batch.commitRecord(recordNumber)
        if batch.isFull {
            try emit(batch)
            batch = RecordBatch(fileIndex: fileIndex, byLine: false, capacity: batchSize)
        }
    }
}
