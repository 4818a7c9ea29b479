import ArgumentParser
import Foundation
import Logging

/// How log lines look on stderr (`--log-format`, else `GREYOAK_LOG_FORMAT`).
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Alembic's shape: `INFO  [greyoak.migration] Running upgrade ...`.
    case text
    /// One JSON object per line, for log shippers: `time`, `level`, `label`, `message`, and
    /// `metadata` when there is any.
    case json
}

/// Log lines on stderr, in the ``LogFormat`` the user chose.
///
/// Every line greyoak writes on stderr goes through ``write(level:label:message:metadata:)``
/// (log events, progress lines, the final `FAILED:`), so that with `--log-format json` each
/// line parses as JSON. Messages are scrubbed of passwords where they are made
/// (``ConnectionSettings``), so both formats show the same, password-free text.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    /// Set once while the CLI parses its options, before any other thread exists.
    nonisolated(unsafe) static var format = LogFormat.text

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, event in event }
        Self.write(level: event.level, label: label, message: "\(event.message)", metadata: merged)
    }

    /// Writes one line (text) or one JSON object (json) on stderr with a single `write`, so
    /// that lines from several threads never interleave.
    static func write(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata = [:]) {
        let line: String
        switch format {
        case .text:
            let name = level == .warning ? "WARN" : level.rawValue.uppercased()
            let padded = name.count >= 5 ? name : name.padding(toLength: 5, withPad: " ", startingAt: 0)
            let fields = metadata.isEmpty ? "" : " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(padded) [\(label)] \(message)\(fields)"
        case .json:
            var object: [String: Any] = [
                "time": Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)),
                "level": level.rawValue, "label": label, "message": message,
            ]
            if !metadata.isEmpty { object["metadata"] = metadata.mapValues(jsonValue) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A message that text mode prints as it is, without a level or label (`FAILED: ...`,
    /// a refused load's errors): an `error` object in JSON.
    static func writePlain(label: String, _ message: String) {
        guard format == .json else {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            return
        }
        write(level: .error, label: label, message: message)
    }

    private static func jsonValue(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case let .string(text): text
        case let .stringConvertible(convertible): convertible.description
        case let .array(values): values.map(jsonValue)
        case let .dictionary(values): values.mapValues(jsonValue)
        }
    }
}
