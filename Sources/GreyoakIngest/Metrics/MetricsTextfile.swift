import Foundation
import GreyoakPostgres

/// `--metrics-file PATH`: the run's metrics for node_exporter's textfile collector
/// (`--collector.textfile.directory`), which reads every `*.prom` file in its directory at
/// each scrape.
///
/// Written atomically, as the collector's documentation asks: into a temporary file in the
/// same directory (same file system, and not named `*.prom`, so never read half-written),
/// flushed, then renamed over `PATH`. A scrape sees the old file or the new one, never a part.
public enum MetricsTextfile {
    /// Replaces the file with `families`, keeping from the file it replaces the families
    /// named in `kept` that `families` lacks (a failed run keeps the last success's timestamp,
    /// as a POST to the Pushgateway does).
    ///
    /// - Throws: ``GreyoakError`` when the directory cannot be written.
    public static func write(_ families: [MetricFamily], to path: String, keeping kept: Set<String> = []) throws {
        var text = MetricFamily.exposition(families)
        let missing = kept.subtracting(families.map(\.name))
        if !missing.isEmpty, let old = try? String(contentsOfFile: path, encoding: .utf8) {
            text += carriedOver(missing, from: old)
        }
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let failed = { (reason: String) in
            GreyoakError(.failure, "cannot write the metrics file \(path): \(reason)",
                         hint: "--metrics-file must name a file in a directory greyoak may write (node_exporter's --collector.textfile.directory)")
        }
        // 0644: node_exporter usually runs as another user, and metrics hold no secret.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw failed(String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw failed(reason)
        }
    }

    /// The HELP, TYPE and sample lines of the families named `names` in an exposition.
    package static func carriedOver(_ names: Set<String>, from text: String) -> String {
        var lines: [Substring] = []
        for line in text.split(separator: "\n") {
            let name: Substring
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                name = line.dropFirst(7).prefix { $0 != " " }
            } else {
                name = line.prefix { $0 != "{" && $0 != " " }
            }
            if names.contains(String(name)) { lines.append(line) }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}
