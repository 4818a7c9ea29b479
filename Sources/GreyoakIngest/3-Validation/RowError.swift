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
    public var rule: Rule
    /// Errors that make the rest of the input unreadable refuse the run whatever --max-errors says.
    public var isFatal = false

    public init(file: String, fileIndex: Int, location: RowLocation, column: String? = nil, value: String? = nil,
                rule: Rule, isFatal: Bool = false) {
        self.file = file
        self.fileIndex = fileIndex
        self.location = location
        self.column = column
        self.value = value
        self.rule = rule
        self.isFatal = isFatal
    }

    /// An error whose rule is only text: for a stage that has no ``Rule`` case yet.
    @available(*, deprecated, message: "give the error a RowError.Rule case")
    public init(file: String, fileIndex: Int, location: RowLocation, column: String? = nil, value: String? = nil,
                rule: String, isFatal: Bool = false) {
        self.init(file: file, fileIndex: fileIndex, location: location, column: column, value: value, rule: .other(rule), isFatal: isFatal)
    }

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
