/// Checks one UTF-8 sequence the way RFC 3629 (and Unicode's table 3-7) defines it: no
/// overlong forms, no surrogates, nothing above U+10FFFF.
enum UTF8Sequence {
    enum Verdict: Equatable {
        /// A valid sequence of this many bytes.
        case valid(Int)
        /// Not UTF-8.
        case invalid
        /// A valid start, cut off by the end of the bytes available.
        case truncated
    }

    /// Judges the sequence that starts at `bytes` (whose first byte is at least 0x80), with
    /// `available` bytes readable there.
    @inline(__always)
    static func check(_ bytes: UnsafePointer<UInt8>, available: Int) -> Verdict {
        let lead = bytes[0]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return .invalid
        }
        for index in 1..<length {
            guard index < available else { return .truncated }
            let byte = bytes[index]
            if index == 1 {
                guard byte >= low, byte <= high else { return .invalid }
            } else {
                guard byte & 0xC0 == 0x80 else { return .invalid }
            }
        }
        return .valid(length)
    }

    /// Whether all of `count` bytes are UTF-8 (and where the first bad byte is, if not).
    static func firstInvalid(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int? {
        var index = 0
        while index < count {
            if bytes[index] < 0x80 {
                index += 1
                continue
            }
            guard case let .valid(length) = check(bytes + index, available: count - index) else { return index }
            index += length
        }
        return nil
    }

    /// Whether `count` bytes hold neither a NUL nor a byte above 0x7F (the common case, told
    /// eight bytes at a time).
    static func isPlainASCII(_ bytes: UnsafeRawPointer, count: Int) -> Bool {
        var index = 0
        while index + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // A byte with its high bit set, or a zero byte (the classic has-zero-byte trick).
            if word & 0x8080_8080_8080_8080 != 0 || (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0 {
                return false
            }
            index += 8
        }
        while index < count {
            let byte = bytes.load(fromByteOffset: index, as: UInt8.self)
            if byte == 0 || byte >= 0x80 { return false }
            index += 1
        }
        return true
    }

    /// Appends the UTF-8 encoding of a scalar (already known to be one) to `out`.
    @inline(__always)
    static func encode(_ scalar: UInt32, into out: ByteBuffer) {
        switch scalar {
        case ..<0x80:
            out.appendByte(UInt8(scalar))
        case ..<0x800:
            out.appendByte(UInt8(0xC0 | (scalar >> 6)))
            out.appendByte(UInt8(0x80 | (scalar & 0x3F)))
        case ..<0x10000:
            out.appendByte(UInt8(0xE0 | (scalar >> 12)))
            out.appendByte(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.appendByte(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.appendByte(UInt8(0xF0 | (scalar >> 18)))
            out.appendByte(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.appendByte(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.appendByte(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}
