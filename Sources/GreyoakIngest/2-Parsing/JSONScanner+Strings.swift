import Foundation
import GreyoakPostgres

// Strings: the in-place fast path, escapes and surrogate pairs, and the bytes of messages.
extension JSONScanner {
    /// Reads the string whose opening quote is at `start`; nil when the buffer ends first
    /// (and more may come).
    func string(_ base: UnsafePointer<UInt8>, _ start: Int, _ count: Int, _ final: Bool,
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
    func unicodeEscape(_ escape: UnsafePointer<UInt8>, _ available: Int, _ final: Bool,
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

    // MARK: Messages

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }

    static func hex4Text(_ value: UInt32) -> String {
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
