import Foundation
import GreyoakPostgres

// The scanner's events: where each value belongs in a record (a column, `pillars`, the API's
// `stocks`, or nothing), member names checked and mapped, and a field's array or object
// value captured as compact JSON text.
extension JSONRecordParser {
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
                startCapture(column: nil, object: false)
            }
        case let .column(column):
            if duplicate(column) { roles[depth] = .skip } else { startCapture(column: column, object: object) }
        case .pillars:
            if object {
                roles[depth] = .pillars
                keys.beginPillars()
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
            let meaning = keys.meaning(of: bytes, pillars: false)
            if case let .column(column) = meaning {
                slot = .column(column)
                return
            }
            if !top, !keySets[depth].insert(Array(bytes)).inserted {
                reject(.memberNamedTwice(name: String(decoding: bytes, as: UTF8.self)))
            }
            slot = meaning == .pillars ? .pillars : .skip
            if meaning == .unknown { try unknown(String(decoding: bytes, as: UTF8.self), deferrable: top) }
        case .pillars:
            let meaning = keys.meaning(of: bytes, pillars: true)
            if case let .column(column) = meaning {
                slot = .column(column)
                return
            }
            slot = .skip
            if !keySets[depth].insert(Array(bytes)).inserted {
                reject(.memberNamedTwice(name: "pillars." + String(decoding: bytes, as: UTF8.self)))
            }
            if meaning == .unknown { try unknown("pillars." + String(decoding: bytes, as: UTF8.self), deferrable: !scanner.multipleValues && depth == 2) }
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
            keys.noteIgnored(name)
        } else if deferrable {
            if deferredUnknown == nil { deferredUnknown = name }
        } else {
            throw unknownField(name)
        }
    }


    /// Whether the open record already has this column: it rejects the record, and the
    /// value is dropped.
    private func duplicate(_ column: ScoreColumn) -> Bool {
        guard batch.hasField(column) else { return false }
        reject(twice: column)
        return true
    }

    private func reject(twice column: ScoreColumn) {
        reject(.fieldNamedTwice(column: column.name), column: column.name)
    }

    func string(_ bytes: UnsafeRawBufferPointer) throws {
        guard case let .column(column) = target else { return try other(bytes, isString: true) }
        if batch.hasField(column) { return reject(twice: column) }
        if memchr(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, 0, bytes.count) != nil {
            reject(.containsNUL(position: nil), column: column.name)
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
            startCapture(column: nil, object: false, scalar: true)
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

    private func startCapture(column: ScoreColumn?, object: Bool, scalar: Bool = false) {
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
        if column == nil { scanner.segmentStart = scanner.offset }
    }

    private func endCapture() throws {
        captureDepth = -1
        if let captureColumn {
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
}
