import GreyoakPostgres
/// A run that loaded nothing: why, the first errors and how many there were in all.
public struct IngestFailure: CodedFailure, CustomStringConvertible, Sendable {
    public var code: GreyoakError.Code
    public var message: String
    public var errors: [RowError]
    public var errorCount: Int
    public var summary: IngestSummary
    public var hint: String?

    public var description: String {
        var lines = errors.map(\.description)
        if errorCount > errors.count { lines.append("… and \(errorCount - errors.count) more error(s) (raise --max-report to see them)") }
        lines.append(message)
        if let hint { lines.append("  hint: \(hint)") }
        return lines.joined(separator: "\n")
    }
}
