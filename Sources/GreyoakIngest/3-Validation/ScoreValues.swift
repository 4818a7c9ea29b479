import Foundation

/// The value vocabularies of the GreyOak engine and how input spellings map onto them.
package enum ScoreValues {
    /// In the order the engine applies them, which is also the stored order.
    static let guardrails = ["LowDataHold", "Illiquidity", "PledgeCap", "HighRiskCap", "SectorBear", "LowCoverage"]
    static let guardrailList = guardrails.joined(separator: ", ")
    static let sectorBearBit: UInt8 = 1 << 4

    /// The stored JSON text for every set of guardrails, indexed by bitmask.
    package static let guardrailText: [[UInt8]] = (0..<64).map { mask in
        let names = guardrails.indices.filter { mask & (1 << $0) != 0 }.map { "\"\(guardrails[$0])\"" }
        return Array("[\(names.joined(separator: ","))]".utf8)
    }

    private static let guardrailByKey: [String: Int] =
        Dictionary(uniqueKeysWithValues: guardrails.enumerated().map { ($1.lowercased(), $0) })

    package enum GuardrailFailure: Error { case unknown(String), malformed }

    /// Parses a JSON array of names, or a `;`/`|`-separated list, into a bitmask.
    package static func guardrailMask(_ text: String) throws(GuardrailFailure) -> UInt8 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var names: [String] = []
        if trimmed.hasPrefix("[") {
            guard let value = try? Array(trimmed.utf8).withUnsafeBytes({ try JSONParser.parse($0) }),
                  case let .array(items) = value else { throw .malformed }
            for item in items {
                guard case let .string(name) = item else { throw .malformed }
                names.append(name)
            }
        } else {
            names = trimmed.split(whereSeparator: { $0 == ";" || $0 == "|" || $0 == "," }).map(String.init)
        }
        var mask: UInt8 = 0
        for raw in names {
            let name = raw.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            guard let index = guardrailByKey[name.lowercased()] else { throw .unknown(name) }
            mask |= 1 << index
        }
        return mask
    }

    /// Whether a ticker is an NSE-style symbol: A-Z, 0-9, `&`, `-`, at most 20 characters,
    /// with an optional `.XX` or `.XXX` exchange suffix. Expects upper case.
    package static func isTicker(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        guard n >= 1 && n <= 20 else { return false }
        var dot = -1
        for i in 0..<n {
            let c = p[i]
            if c == UInt8(ascii: ".") {
                guard dot < 0 else { return false }
                dot = i
            } else if dot >= 0 {
                guard c >= 65 && c <= 90 else { return false }
            } else {
                guard (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == UInt8(ascii: "&") || c == UInt8(ascii: "-") else { return false }
            }
        }
        if dot >= 0 {
            let suffix = n - dot - 1
            return dot >= 1 && (suffix == 2 || suffix == 3)
        }
        return true
    }

    private static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// Parses a decimal number exactly as PostgreSQL's `float8in` (strtod) would.
    ///
    /// The common `ddd.dd` case takes Clinger's fast path (an exact integer over an exact
    /// power of ten is correctly rounded); anything else goes to `strtod`. Returns NaN or
    /// infinity when the text says so (the caller rejects them), nil when it is no number.
    /// The text must be followed by a NUL byte, as ``RecordBatch`` guarantees.
    @inline(__always)
    package static func number(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
        var i = 0
        var negative = false
        if n > 0, p[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if n > 0, p[0] == UInt8(ascii: "+") { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var dot = false
        while i < n {
            let d = p[i] &- 48
            if d <= 9 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                digits += 1
                if dot { fraction += 1 }
            } else if p[i] == UInt8(ascii: "."), !dot {
                dot = true
            } else {
                break
            }
            i += 1
        }
        if i == n, digits > 0, digits <= 15, fraction <= 22 {
            let value = Double(mantissa) / powersOfTen[fraction]
            return negative ? -value : value
        }
        return slowNumber(p, n)
    }

    private static func slowNumber(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
        var start = 0, end = n
        while start < end, p[start] == 0x20 || p[start] == 0x09 { start += 1 }
        while end > start, p[end - 1] == 0x20 || p[end - 1] == 0x09 { end -= 1 }
        guard end > start else { return nil }
        for i in start..<end where p[i] == UInt8(ascii: "x") || p[i] == UInt8(ascii: "X") { return nil }
        let c = UnsafeRawPointer(p + start).assumingMemoryBound(to: CChar.self)
        var stop: UnsafeMutablePointer<CChar>?
        let value = strtod(c, &stop)
        guard let stop, UnsafePointer(stop) - c == end - start else { return nil }
        return value
    }

    /// `100` for whole numbers, else the shortest form: how limits appear in messages.
    static func show(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func twoDecimals(_ value: Double) -> String { String(format: "%.2f", value) }
}
