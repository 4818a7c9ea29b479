/// A small recursive-descent JSON parser over bytes, for one record (or one wrapper) at a
/// time. Accepts Python's `NaN`, `Infinity` and `-Infinity`, which `json.dumps` writes,
/// so that the validator can say what is wrong with them.
struct JSONParser {
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one value that must fill the input (whitespace aside).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = JSONParser(bytes)
        let value = try parser.value()
        parser.skipSpace()
        if parser.offset < bytes.count { throw Failure(offset: parser.offset, message: "unexpected text after the value") }
        return value
    }

    mutating func skipSpace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    mutating func value() throws -> JSONValue {
        skipSpace()
        guard offset < bytes.count else { throw Failure(offset: offset, message: "unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var members: [(String, JSONValue)] = []
            skipSpace()
            if peek("}") { offset += 1; return .object(members) }
            while true {
                skipSpace()
                guard peek("\"") else { throw Failure(offset: offset, message: "expected a quoted member name") }
                let key = try string()
                skipSpace()
                guard peek(":") else { throw Failure(offset: offset, message: "expected ':' after member name \"\(key)\"") }
                offset += 1
                members.append((key, try value()))
                skipSpace()
                if peek(",") { offset += 1; continue }
                if peek("}") { offset += 1; return .object(members) }
                throw Failure(offset: offset, message: "expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            offset += 1
            var items: [JSONValue] = []
            skipSpace()
            if peek("]") { offset += 1; return .array(items) }
            while true {
                items.append(try value())
                skipSpace()
                if peek(",") { offset += 1; continue }
                if peek("]") { offset += 1; return .array(items) }
                throw Failure(offset: offset, message: "expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N"): try literal("NaN"); return .number("NaN")
        case UInt8(ascii: "I"): try literal("Infinity"); return .number("Infinity")
        default:
            if peek("-"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "I") {
                offset += 1
                try literal("Infinity")
                return .number("-Infinity")
            }
            let start = offset
            while offset < bytes.count, Self.isNumberByte(bytes[offset]) { offset += 1 }
            guard offset > start else { throw Failure(offset: offset, message: "unexpected character '\(Character(Unicode.Scalar(bytes[offset])))'") }
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self))
        }
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    private func peek(_ char: Unicode.Scalar) -> Bool { offset < bytes.count && bytes[offset] == UInt8(char.value) }

    private mutating func literal(_ word: String) throws {
        for byte in word.utf8 {
            guard offset < bytes.count, bytes[offset] == byte else { throw Failure(offset: offset, message: "expected \(word)") }
            offset += 1
        }
    }

    private mutating func string() throws -> String {
        offset += 1
        var out = [UInt8]()
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { break }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), offset + 1 < bytes.count,
                       bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") {
                        offset += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                default: out.append(escape)
                }
            case 0..<0x20:
                throw Failure(offset: offset - 1, message: "a control character inside a string")
            default:
                out.append(byte)
            }
        }
        throw Failure(offset: offset, message: "unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count,
              let value = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 4)]), as: UTF8.self), radix: 16)
        else { throw Failure(offset: offset, message: "bad \\u escape") }
        offset += 4
        return value
    }
}
