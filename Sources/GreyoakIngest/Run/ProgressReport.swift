import Foundation

/// How far a run has got, and the text the progress display shows for it.
public struct ProgressReport: Sendable, Equatable {
    public var phase: String
    public var rows: Int
    public var files: Int
    public var totalFiles: Int
    /// Input bytes read so far (compressed bytes for `.gz` files).
    public var bytes: Int
    /// All input bytes, when known (not for standard input).
    public var totalBytes: Int?
    public var elapsed: Double

    public init(phase: String, rows: Int, files: Int, totalFiles: Int, bytes: Int, totalBytes: Int?, elapsed: Double) {
        (self.phase, self.rows, self.files, self.totalFiles) = (phase, rows, files, totalFiles)
        (self.bytes, self.totalBytes, self.elapsed) = (bytes, totalBytes, elapsed)
    }

    /// The share of the input read, 0...1, while reading with a known total.
    public var fraction: Double? {
        guard phase == "reading", let totalBytes else { return nil }
        return totalBytes == 0 ? 1 : min(1, Double(bytes) / Double(totalBytes))
    }

    /// Seconds left at the rate so far; nil before there is a rate to go by (1 s and 1%).
    public var secondsLeft: Double? {
        guard let fraction, fraction >= 0.01, elapsed >= 1 else { return nil }
        return elapsed * (1 - fraction) / fraction
    }

    /// The plain line (a log line every 5 s when stderr is not a terminal):
    /// `reading: 157696 rows, 15766 rows/s, files 0/1, 10.0 s, 42% of 61.2 MB, ETA 14 s`.
    public var line: String {
        let rate = elapsed > 0 ? Int(Double(rows) / elapsed) : 0
        var text = "\(phase): \(rows) rows, \(rate) rows/s, files \(files)/\(totalFiles), \(String(format: "%.1f", elapsed)) s"
        if let fraction, let totalBytes {
            text += ", \(Int(fraction * 100))% of \(Self.size(totalBytes))"
            if let secondsLeft { text += ", ETA \(Self.duration(secondsLeft))" }
        } else if phase == "reading" {
            text += ", \(Self.size(bytes)) read"
        }
        return text
    }

    /// The line with a bar in front, for a terminal: `[######------]  42% ` then ``line``.
    public func bar(width: Int = 24) -> String {
        guard let fraction else { return line }
        let filled = Int((fraction * Double(width)).rounded(.down))
        let percent = String(repeating: " ", count: max(0, 3 - String(Int(fraction * 100)).count)) + "\(Int(fraction * 100))%"
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(percent) " + line
    }

    static func size(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    package static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(whole % 3600 / 60) min"
    }
}
