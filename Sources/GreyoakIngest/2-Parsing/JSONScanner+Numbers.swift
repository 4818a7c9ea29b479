// Numbers: RFC 8259's grammar, read as text (the validator converts them).
extension JSONScanner {
    /// Reads the number starting at `start`; its end, or nil when the buffer ends first.
    func number(_ base: UnsafePointer<UInt8>, _ start: Int, _ count: Int, _ final: Bool,
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
}
