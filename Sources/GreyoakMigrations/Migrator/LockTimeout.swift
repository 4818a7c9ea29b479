import Foundation

/// How long one DDL statement may wait for a lock before PostgreSQL cancels it
/// (`lock_timeout`), as `--ddl-lock-timeout` and a file's `-- Lock-Timeout:` line give it.
public struct LockTimeout: Sendable, Equatable, CustomStringConvertible {
    public var milliseconds: Int

    public init(milliseconds: Int) { self.milliseconds = milliseconds }

    /// greyoak's default: short enough that readers queued behind a waiting migration barely
    /// notice, long enough for the usual short transactions to end.
    public static let ddlDefault = LockTimeout(milliseconds: 2000)

    /// Parses `2s`, `500ms`, `1.5s`, `1min` or a plain number of seconds.
    ///
    /// - Returns: nil for anything else, for zero (which PostgreSQL reads as "wait forever")
    ///   and for negative values.
    public init?(parsing text: String) {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, factor: Double)] = [("ms", 1), ("min", 60_000), ("s", 1000), ("", 1000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value.isFinite, value > 0, value * factor < Double(Int32.max) else { return nil }
            milliseconds = max(1, Int((value * factor).rounded()))
            return
        }
        return nil
    }

    public var seconds: Double { Double(milliseconds) / 1000 }

    /// `2s`, `500ms`: how a person wrote it.
    public var description: String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
