import Foundation
import GreyoakPostgres

/// One metric of Prometheus's text exposition format (version 0.0.4): its name, help, type
/// and samples, as node_exporter's textfile collector and the Pushgateway read it.
///
/// Every greyoak metric is a gauge: a batch job reports the state of its last run (when it
/// succeeded, how long it took, how many rows), not a count that grows within a process.
public struct MetricFamily: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        public var labels: [(name: String, value: String)]
        public var value: Double

        public init(_ value: Double, labels: [(name: String, value: String)] = []) {
            self.value = value
            self.labels = labels
        }

        public static func == (lhs: Sample, rhs: Sample) -> Bool {
            lhs.value == rhs.value && lhs.labels.map(\.name) == rhs.labels.map(\.name) && lhs.labels.map(\.value) == rhs.labels.map(\.value)
        }
    }

    public let name: String
    public let help: String
    public var samples: [Sample]

    public init(_ name: String, help: String, samples: [Sample]) {
        precondition(name.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression) != nil, "not a metric name: \(name)")
        self.name = name
        self.help = help
        self.samples = samples
    }

    public init(_ name: String, help: String, value: Double) {
        self.init(name, help: help, samples: [Sample(value)])
    }

    /// `# HELP`, `# TYPE` and one line per sample; ends with a newline.
    public var text: String {
        var lines = ["# HELP \(name) \(Self.escape(help, quote: false))", "# TYPE \(name) gauge"]
        for sample in samples {
            let labels = sample.labels.isEmpty ? ""
                : "{" + sample.labels.map { "\($0.name)=\"\(Self.escape($0.value, quote: true))\"" }.joined(separator: ",") + "}"
            lines.append("\(name)\(labels) \(Self.format(sample.value))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Whole numbers without a fraction (`1733475600`, not `1.7334756e+09`); Go's
    /// `ParseFloat`, which both readers use, takes Swift's other renderings as they are.
    package static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// The format's escapes: backslash and newline in help text, and the double quote too in a label value.
    package static func escape(_ text: String, quote: Bool) -> String {
        var escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        if quote { escaped = escaped.replacingOccurrences(of: "\"", with: "\\\"") }
        return escaped
    }

    /// The whole exposition of `families`.
    public static func exposition(_ families: [MetricFamily]) -> String {
        families.map(\.text).joined()
    }
}
