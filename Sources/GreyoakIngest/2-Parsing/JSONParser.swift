/// Builds a ``JSONValue`` tree from one whole JSON text with ``JSONScanner``: as strict, and
/// as bounded (nesting depth, no recursion while parsing).
///
/// For small values only (a guardrail list, a test's expectation); score files go through
/// ``JSONRecordParser``, which builds no tree.
package final class JSONParser: JSONEventHandler {
    private enum Frame {
        case array([JSONValue])
        case object([(String, JSONValue)], keys: Set<String>, key: String)
    }

    private var stack: [Frame] = []
    private var result: JSONValue?

    /// Parses one value that must fill the input (whitespace and a byte-order mark aside).
    ///
    /// - Throws: ``JSONScanner/Failure`` for anything RFC 8259 does not allow, a member
    ///   named twice in one object, or nesting deeper than `maxDepth`.
    package static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONScanner.defaultMaxDepth) throws -> JSONValue {
        let scanner = JSONScanner(multipleValues: false, maxDepth: maxDepth, maxSegmentBytes: Int.max / 2)
        let parser = JSONParser()
        do {
            try scanner.feed(bytes, into: parser)
            try scanner.finish(into: parser)
        } catch let error as DuplicateMember {
            throw JSONScanner.Failure(line: scanner.line, message: "member \(JSONValue.quote(error.name)) appears twice in one object")
        }
        guard let result = parser.result else { throw JSONScanner.Failure(line: scanner.line, message: "the input holds no JSON value") }
        return result
    }

    private struct DuplicateMember: Error { var name: String }

    private func add(_ value: JSONValue) throws {
        guard let top = stack.popLast() else {
            result = value
            return
        }
        switch top {
        case var .array(items):
            items.append(value)
            stack.append(.array(items))
        case .object(var members, var keys, let key):
            guard keys.insert(key).inserted else { throw DuplicateMember(name: key) }
            members.append((key, value))
            stack.append(.object(members, keys: keys, key: ""))
        }
    }

    func beginObject() throws { stack.append(.object([], keys: [], key: "")) }
    func beginArray() throws { stack.append(.array([])) }

    func endObject() throws {
        guard case let .object(members, _, _) = stack.popLast() else { preconditionFailure("the scanner pairs brackets") }
        try add(.object(members))
    }

    func endArray() throws {
        guard case let .array(items) = stack.popLast() else { preconditionFailure("the scanner pairs brackets") }
        try add(.array(items))
    }

    func key(_ bytes: UnsafeRawBufferPointer) throws {
        guard case let .object(members, keys, _) = stack.popLast() else { preconditionFailure("keys come inside objects") }
        stack.append(.object(members, keys: keys, key: String(decoding: bytes, as: UTF8.self)))
    }

    func string(_ bytes: UnsafeRawBufferPointer) throws { try add(.string(String(decoding: bytes, as: UTF8.self))) }
    func number(_ bytes: UnsafeRawBufferPointer) throws { try add(.number(String(decoding: bytes, as: UTF8.self))) }

    func literal(_ value: JSONLiteral) throws {
        switch value {
        case .true: try add(.bool(true))
        case .false: try add(.bool(false))
        case .null: try add(.null)
        }
    }

    func endValue() throws {}
}
