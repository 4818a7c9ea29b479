/// A parsed JSON value, keeping numbers as the text they were written as, so that the
/// validator judges exactly what the file said (`1e309` stays `1e309`, not infinity).
package indirect enum JSONValue: Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.array(a), .array(b)): a == b
        case let (.string(a), .string(b)), let (.number(a), .number(b)): a == b
        case let (.bool(a), .bool(b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    /// Compact JSON text.
    var compactText: String {
        switch self {
        case let .object(members): "{" + members.map { "\(Self.quote($0.0)):\($0.1.compactText)" }.joined(separator: ",") + "}"
        case let .array(items): "[" + items.map(\.compactText).joined(separator: ",") + "]"
        case let .string(text): Self.quote(text)
        case let .number(text): text
        case let .bool(value): value ? "true" : "false"
        case .null: "null"
        }
    }

    package static func quote(_ text: String) -> String {
        // Nearly every text needs no escape (a rejects file quotes every field of every
        // rejected row): one pass over its bytes, then one copy.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
