import Foundation

/// One rejected row or unreadable input, said the way the README promises:
/// `FILE:LINE: column COL: value "V": RULE`.
public struct RowError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// Index of the file in the run, for ordering.
    public var fileIndex: Int
    public var location: RowLocation
    public var column: String?
    public var value: String?
    public var rule: String
    /// Errors that make the rest of the input unreadable refuse the run whatever --max-errors says.
    public var isFatal = false

    public var description: String {
        var text = file
        if location != .file { text += ":\(location)" }
        text += ":"
        if let column { text += " column \(column):" }
        if let value { text += " value \"\(Self.show(value))\":" }
        return text + " \(rule)"
    }

    /// Keeps a value printable and short: JSON's escapes, at most 80 characters.
    static func show(_ value: String) -> String {
        let shown = JSONValue.quote(String(value.unicodeScalars.prefix(80)))
        return String(shown.dropFirst().dropLast()) + (value.unicodeScalars.count > 80 ? "…" : "")
    }
}
