import Foundation
import GreyoakPostgres

/// A strict RFC 8259 JSON scanner over chunks of bytes, reporting tokens to a
/// ``JSONEventHandler`` as it reads them.
///
/// Strict: escapes are the eight of RFC 8259 plus `\uXXXX` with surrogate pairs checked;
/// strings are UTF-8 (no overlong forms, no surrogates) with no raw control characters;
/// numbers follow the grammar (no leading zeros, no `NaN`, no `Infinity`, no `+`); nothing
/// but whitespace follows the top-level value (NDJSON: one value per line).
///
/// Bounded, whatever the input: containers nest at most `maxDepth` deep, tracked on an
/// explicit stack (never recursion); a token cut by a chunk boundary is carried over whole,
/// and no run of input between two marks the handler sets with ``segmentStart`` (a score
/// record, or the gap between two) may pass `maxSegmentBytes`. So memory stays within about
/// one segment plus one chunk, and a hostile file is refused as soon as it passes a limit.
///
/// The hot loop keeps its state in locals and scans a string without escapes in place, so
/// that a string reaches the handler without a copy.
package final class JSONScanner {
    /// Where and why the input is not JSON.
    package struct Failure: Error, Sendable {
        var line: Int
        package var message: String
        /// A size limit passed, not a syntax error.
        var isLimit = false
    }

    private enum Expect: UInt8 {
        /// Any value (at the top level or after `,` in an array or `:` in an object).
        case value
        /// A value or `]`, right after `[`.
        case firstValue
        /// A member name or `}`, right after `{`.
        case firstKey
        /// A member name, after `,` in an object.
        case key
        case colon
        case commaOrClose
        /// Only whitespace (NDJSON: until the end of the line).
        case end
    }

    static let defaultMaxDepth = 64

    let multipleValues: Bool
    let maxDepth: Int
    let maxSegmentBytes: Int

    /// The line of the last token read (1-based).
    private(set) var line = 1
    /// Byte offset in the whole input of the last container or value boundary reported.
    private(set) var offset = 0
    /// Where the current segment began (an input offset); the handler moves it.
    var segmentStart = 0
    /// Containers open around the current token (0 at the top level).
    private(set) var depth = 0

    private var expect = Expect.value
    /// `isObject[d]`: whether the container at depth `d` (1-based) is an object.
    private let isObject: UnsafeMutablePointer<Bool>
    /// The unread tail of the previous chunk (a token cut by the chunk boundary).
    private var carry: [UInt8] = []
    /// Input offset of the first byte of the buffer being scanned.
    private var bufferStart = 0
    /// Unescaped string bytes, when a string has escapes.
    let scratch = ByteBuffer(capacity: 1 << 12)
    /// Whether a UTF-8 byte-order mark can still come (the input's first bytes).
    private var atStart = true

    /// - Parameters:
    ///   - multipleValues: NDJSON: a value per line, blank lines allowed.
    ///   - maxDepth: The deepest nesting of arrays and objects allowed.
    ///   - maxSegmentBytes: The most input between two ``segmentStart`` marks.
    init(multipleValues: Bool, maxDepth: Int = JSONScanner.defaultMaxDepth, maxSegmentBytes: Int) {
        self.multipleValues = multipleValues
        self.maxDepth = maxDepth
        self.maxSegmentBytes = maxSegmentBytes
        isObject = .allocate(capacity: maxDepth + 1)
        isObject.initialize(repeating: false, count: maxDepth + 1)
    }

    deinit { isObject.deallocate() }

    /// Reads one chunk, reporting every token it completes.
    ///
    /// - Throws: ``Failure`` where the input stops being JSON or passes a limit, or what
    ///   the handler throws.
    func feed(_ chunk: UnsafeRawBufferPointer, into handler: some JSONEventHandler) throws {
        guard chunk.count > 0 else { return }
        var rest = chunk[...]
        if !carry.isEmpty {
            // Complete the cut token from the chunk's first bytes; then go on in the chunk
            // itself, so that a chunk is not copied whole because its predecessor cut a token.
            let old = carry.count
            let head = min(chunk.count, 4096)
            carry.append(contentsOf: chunk[..<head])
            let used = try scanCarry(final: false, handler)
            if used >= old {
                carry.removeAll(keepingCapacity: true)
                rest = chunk[(used - old)...]
            } else {
                carry.append(contentsOf: chunk[head...])
                try scanCarry(final: false, handler)
                rest = chunk[chunk.count...]
            }
        }
        if !rest.isEmpty {
            let base = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self) + rest.startIndex
            let used = try scanFromStart(base, rest.count, final: false, handler)
            if used < rest.count { carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + used)...])) }
            bufferStart += used
        }
        try checkSegment(bufferStart + carry.count)
    }

    /// Ends the input.
    ///
    /// - Throws: ``Failure`` when the input ends inside a value, or holds none (JSON).
    func finish(into handler: some JSONEventHandler) throws {
        if !carry.isEmpty { try scanCarry(final: true, handler) }
        if depth > 0 || expect == .colon || expect == .commaOrClose {
            throw Failure(line: line, message: "the input ends inside a JSON value (truncated file?)")
        }
        if !multipleValues, expect != .end {
            throw Failure(line: line, message: "the input holds no JSON value")
        }
    }

    /// Scans the carried bytes; returns how many it used (and drops them).
    @discardableResult
    private func scanCarry(final: Bool, _ handler: some JSONEventHandler) throws -> Int {
        let used = try carry.withUnsafeBufferPointer { buffer in
            try scanFromStart(buffer.baseAddress!, buffer.count, final: final, handler)
        }
        carry.removeFirst(used)
        bufferStart += used
        return used
    }

    /// Skips a byte-order mark at the very start of the input.
    private func scanFromStart(_ base: UnsafePointer<UInt8>, _ count: Int, final: Bool,
                               _ handler: some JSONEventHandler) throws -> Int {
        guard atStart else { return try scan(base, count, final: final, handler) }
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        let seen = min(count, 3)
        if (0..<seen).allSatisfy({ base[$0] == mark[$0] }) {
            if seen < 3 && !final { return 0 }  // maybe a mark, cut by the chunk boundary
            if seen == 3 {
                atStart = false
                bufferStart += 3
                return 3 + (try scan(base + 3, count - 3, final: final, handler))
            }
        }
        atStart = false
        return try scan(base, count, final: final, handler)
    }

    @inline(__always) private func checkSegment(_ position: Int) throws {
        if position - segmentStart > maxSegmentBytes {
            throw Failure(line: line, message: "more than \(maxSegmentBytes) bytes in one record (the limit; raise it with --max-record-bytes)", isLimit: true)
        }
    }

    // MARK: The scan

    /// Scans as far as whole tokens go; returns how many bytes it used (the rest start a
    /// token that the next chunk completes).
    private func scan(_ base: UnsafePointer<UInt8>, _ count: Int, final: Bool,
                      _ handler: some JSONEventHandler) throws -> Int {
        var p = 0
        var line = self.line
        var expect = self.expect
        var depth = self.depth
        defer {
            self.line = line
            self.expect = expect
            self.depth = depth
        }
        func fail(_ message: String) -> Failure { Failure(line: line, message: message) }
        /// Marks a boundary at `p` for the handler and the segment limit.
        func mark() throws {
            offset = bufferStart + p
            try checkSegment(offset)
        }
        func valueDone() throws {
            if depth == 0 {
                expect = .end
                try mark()
                try handler.endValue()
            } else {
                expect = .commaOrClose
            }
        }
        func close(_ object: Bool) throws {
            try mark()
            depth -= 1
            p += 1
            if object { try handler.endObject() } else { try handler.endArray() }
            try valueDone()
        }

        while p < count {
            let byte = base[p]
            if byte <= 0x20 {
                switch byte {
                case 0x20, 0x09, 0x0D:
                    p += 1
                    continue
                case 0x0A:
                    if multipleValues {
                        if expect == .end {
                            expect = .value
                        } else if depth > 0 || expect != .value {
                            throw fail("the line ends inside a JSON value (NDJSON holds one whole value per line)")
                        }
                    }
                    line += 1
                    self.line = line  // for the handler's messages
                    p += 1
                    continue
                default:
                    throw fail("a control character (\(Self.hex(byte))) outside a string")
                }
            }
            switch expect {
            case .end:
                throw fail(multipleValues ? "more than one JSON value on one line" : "unexpected text after the JSON value")
            case .colon:
                guard byte == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
                expect = .value
                p += 1
            case .commaOrClose:
                let object = isObject[depth]
                if byte == UInt8(ascii: ",") {
                    expect = object ? .key : .value
                    p += 1
                } else if byte == (object ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    try close(object)
                } else {
                    throw fail(object ? "expected ',' or '}' after an object member" : "expected ',' or ']' after an array element")
                }
            case .firstKey, .key:
                if byte == UInt8(ascii: "\"") {
                    guard let (text, next) = try string(base, p, count, final, line) else { return p }
                    try handler.key(text)
                    p = next
                    expect = .colon
                } else if byte == UInt8(ascii: "}") {
                    guard expect == .firstKey else { throw fail("a ',' before '}' (a trailing comma is not JSON)") }
                    try close(true)
                } else {
                    throw fail("expected a member name in double quotes")
                }
            case .value, .firstValue:
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard depth < maxDepth else {
                        throw fail("arrays and objects nested more than \(maxDepth) deep (the limit)")
                    }
                    try mark()
                    depth += 1
                    let object = byte == UInt8(ascii: "{")
                    isObject[depth] = object
                    p += 1
                    if object {
                        expect = .firstKey
                        try handler.beginObject()
                    } else {
                        expect = .firstValue
                        try handler.beginArray()
                    }
                case UInt8(ascii: "]"):
                    guard expect == .firstValue else { throw fail("a ',' before ']' (a trailing comma is not JSON)") }
                    try close(false)
                case UInt8(ascii: "\""):
                    guard let (text, next) = try string(base, p, count, final, line) else { return p }
                    try handler.string(text)
                    p = next
                    try valueDone()
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard let end = try number(base, p, count, final, line) else { return p }
                    try handler.number(UnsafeRawBufferPointer(start: base + p, count: end - p))
                    p = end
                    try valueDone()
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    let (word, value): (StaticString, JSONLiteral) =
                        byte == UInt8(ascii: "t") ? ("true", .true) : byte == UInt8(ascii: "f") ? ("false", .false) : ("null", .null)
                    let length = word.utf8CodeUnitCount
                    let available = min(length, count - p)
                    guard memcmp(base + p, word.utf8Start, available) == 0 else { throw fail("unexpected text: expected \(word)") }
                    if available < length {
                        if final { throw fail("the input ends inside \(word)") }
                        return p
                    }
                    try handler.literal(value)
                    p += length
                    try valueDone()
                case UInt8(ascii: "N"), UInt8(ascii: "I"):
                    throw fail("NaN and Infinity are not JSON (RFC 8259): write null or a finite number")
                default:
                    throw fail("unexpected character \(Self.describe(byte)) where a value should start")
                }
            }
        }
        return p
    }
}
