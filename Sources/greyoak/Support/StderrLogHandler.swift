import Foundation
import Logging

/// Log lines on stderr in Alembic's shape: `INFO  [greyoak.migration] Running upgrade ...`.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level == .warning ? "WARN" : event.level.rawValue.uppercased()
        let padded = level.count >= 5 ? level : level.padding(toLength: 5, withPad: " ", startingAt: 0)
        FileHandle.standardError.write(Data("\(padded) [\(label)] \(event.message)\n".utf8))
    }
}
