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
    private let scratch = ByteBuffer(capacity: 1 << 12)
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

    /// Reads the string whose opening quote is at `start`; nil when the buffer ends first
    /// (and more may come).
    private func string(_ base: UnsafePointer<UInt8>, _ start: Int, _ count: Int, _ final: Bool,
                        _ line: Int) throws -> (UnsafeRawBufferPointer, Int)? {
        func fail(_ message: String) -> Failure { Failure(line: line, message: message) }
        var i = start + 1
        // No escapes (nearly every string): hand the bytes on in place.
        while i < count {
            let byte = base[i]
            if byte == UInt8(ascii: "\"") { return (UnsafeRawBufferPointer(start: base + start + 1, count: i - start - 1), i + 1) }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("a control character (\(Self.hex(byte))) inside a string: write it as an escape") }
            if byte < 0x80 {
                i += 1
                continue
            }
            switch UTF8Sequence.check(base + i, available: count - i) {
            case let .valid(length): i += length
            case .invalid: throw fail("a string is not valid UTF-8 (byte \(Self.hex(byte)))")
            case .truncated:
                if final { throw fail("a string is not valid UTF-8 (cut off at the end of the input)") }
                return nil
            }
        }
        if i >= count {
            if final { throw fail("the input ends inside a string") }
            return nil
        }
        scratch.removeAll()
        scratch.append(base + start + 1, i - start - 1)
        while i < count {
            let byte = base[i]
            switch byte {
            case UInt8(ascii: "\""):
                return (scratch.bytes, i + 1)
            case UInt8(ascii: "\\"):
                guard i + 1 < count else { break }
                let escape = base[i + 1]
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.appendByte(escape)
                case UInt8(ascii: "b"): scratch.appendByte(0x08)
                case UInt8(ascii: "f"): scratch.appendByte(0x0C)
                case UInt8(ascii: "n"): scratch.appendByte(0x0A)
                case UInt8(ascii: "r"): scratch.appendByte(0x0D)
                case UInt8(ascii: "t"): scratch.appendByte(0x09)
                case UInt8(ascii: "u"):
                    guard let (scalar, length) = try unicodeEscape(base + i, count - i, final, line) else { return nil }
                    UTF8Sequence.encode(scalar, into: scratch)
                    i += length
                    continue
                default:
                    throw fail("an invalid escape \\\(Self.describe(escape, quoted: false)) in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
                }
                i += 2
                continue
            case 0..<0x20:
                throw fail("a control character (\(Self.hex(byte))) inside a string: write it as an escape")
            case 0x20..<0x80:
                scratch.appendByte(byte)
                i += 1
                continue
            default:
                switch UTF8Sequence.check(base + i, available: count - i) {
                case let .valid(length):
                    scratch.append(base + i, length)
                    i += length
                    continue
                case .invalid: throw fail("a string is not valid UTF-8 (byte \(Self.hex(byte)))")
                case .truncated: break
                }
            }
            break  // cut off by the end of the buffer
        }
        if final { throw fail("the input ends inside a string") }
        return nil
    }

    /// Reads `\uXXXX` (and the low half of a surrogate pair) at `escape`; the scalar and the
    /// bytes used, or nil when the buffer ends first.
    private func unicodeEscape(_ escape: UnsafePointer<UInt8>, _ available: Int, _ final: Bool,
                               _ line: Int) throws -> (UInt32, Int)? {
        func fail(_ message: String) -> Failure { Failure(line: line, message: message) }
        func hex4(_ at: Int) throws -> UInt32? {
            var value: UInt32 = 0
            for index in at..<(at + 4) {
                guard index < available else { return nil }
                let byte = escape[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("an invalid \\u escape: \\u takes four hex digits")
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        func cut() throws -> (UInt32, Int)? {
            if final { throw fail("the input ends inside a \\u escape") }
            return nil
        }
        guard let first = try hex4(2) else { return try cut() }
        switch first {
        case 0xDC00...0xDFFF:
            throw fail("a lone low surrogate \\u\(Self.hex4Text(first)) (not preceded by a high one)")
        case 0xD800...0xDBFF:
            for (index, byte) in [UInt8(ascii: "\\"), UInt8(ascii: "u")].enumerated() {
                guard 6 + index < available else { return try cut() }
                guard escape[6 + index] == byte else {
                    throw fail("a lone high surrogate \\u\(Self.hex4Text(first)) (not followed by a low one)")
                }
            }
            guard let second = try hex4(8) else { return try cut() }
            guard (0xDC00...0xDFFF).contains(second) else {
                throw fail("a lone high surrogate \\u\(Self.hex4Text(first)) (followed by \\u\(Self.hex4Text(second)), not a low one)")
            }
            return (0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00), 12)
        default:
            return (first, 6)
        }
    }

    /// Reads the number starting at `start`; its end, or nil when the buffer ends first.
    private func number(_ base: UnsafePointer<UInt8>, _ start: Int, _ count: Int, _ final: Bool,
                        _ line: Int) throws -> Int? {
        func fail(_ message: String) -> Failure { Failure(line: line, message: message) }
        @inline(__always) func isDigit(_ i: Int) -> Bool { base[i] &- UInt8(ascii: "0") < 10 }
        func cut() throws -> Int? {
            if final { throw fail("the input ends inside a number") }
            return nil
        }
        var i = start
        if base[i] == UInt8(ascii: "-") { i += 1 }
        guard i < count else { return try cut() }
        if base[i] == UInt8(ascii: "0") {
            i += 1
        } else if isDigit(i) {
            while i < count, isDigit(i) { i += 1 }
        } else {
            throw fail("a '-' not followed by a digit")
        }
        if i < count, base[i] == UInt8(ascii: ".") {
            i += 1
            guard i < count else { return try cut() }
            guard isDigit(i) else { throw fail("a number with no digit after its '.'") }
            while i < count, isDigit(i) { i += 1 }
        }
        if i < count, base[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < count, base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-") { i += 1 }
            guard i < count else { return try cut() }
            guard isDigit(i) else { throw fail("a number with no digit in its exponent") }
            while i < count, isDigit(i) { i += 1 }
        }
        guard i < count else { return final ? i : nil }
        switch base[i] {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): throw fail("a number with a leading zero")
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"),
             UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            throw fail("a malformed number")
        default: return i
        }
    }

    // MARK: Messages

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }

    private static func hex4Text(_ value: UInt32) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }

    /// A byte for a message: the character when printable ASCII, else its hex value.
    static func describe(_ byte: UInt8, quoted: Bool = true) -> String {
        guard byte >= 0x21, byte < 0x7F else { return hex(byte) }
        let character = String(UnicodeScalar(byte))
        return quoted ? "'\(character)'" : character
    }
}
