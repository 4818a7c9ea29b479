import Foundation

/// A score's band, best first: `Strong Buy` sorts before `Avoid`.
public enum Band: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case strongBuy, buy, hold, avoid

    /// As stored in `scores.band` (the `band_enum` label).
    public var label: String { Self.labels[rawValue] }
    public var description: String { label }

    public static func < (lhs: Band, rhs: Band) -> Bool { lhs.rawValue < rhs.rawValue }

    private static let labels = ["Strong Buy", "Buy", "Hold", "Avoid"]
    static let list = labels.joined(separator: ", ")
    /// ``label`` as bytes, for the COPY encoder.
    var bytes: [UInt8] { Self.labelBytes[rawValue] }
    private static let labelBytes = labels.map { Array($0.utf8) }
    private static let byKey: [String: Band] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.label.lowercased(), $0) })

    /// The band an input spelling names: case, `_` and `-` for the space are forgiven.
    package static func parse(_ p: UnsafePointer<UInt8>, _ n: Int) -> Band? {
        // The exact labels are by far the most common: compare bytes before building a String.
        for (index, label) in labelBytes.enumerated() where label.count == n && memcmp(p, label, n) == 0 { return Band(rawValue: index) }
        var key = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self).lowercased()
        key = key.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
        return byKey[key.split(separator: " ").joined(separator: " ")]
    }

    /// The band a final score earns under `rules`' thresholds, before any guardrail caps it.
    static func earned(by finalScore: Double, rules: ValidationRules) -> Band {
        finalScore >= rules.strongBuyAt ? .strongBuy : finalScore >= rules.buyAt ? .buy : finalScore >= rules.holdAt ? .hold : .avoid
    }
}
