import Dispatch
import Foundation
import GreyoakKit

/// Shows how a load goes on stderr: a redrawn bar on a terminal, a plain line every few
/// seconds otherwise (for logs of scheduled runs).
final class ProgressDisplay {
    // The timer's handler reads only `progress` (Sendable), never `self`.
    private let progress: IngestProgress
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var timer: (any DispatchSourceTimer)?

    init(progress: IngestProgress) { self.progress = progress }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "greyoak.progress"))
        let interval: DispatchTimeInterval = isTerminal ? .milliseconds(200) : .seconds(5)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [progress, isTerminal] in
            let line = Self.line(progress)
            FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : "INFO  [greyoak.ingest] " + line + "\n").utf8))
        }
        timer.resume()
        self.timer = timer
    }

    func stop() {
        timer?.cancel()
        timer = nil
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    static func line(_ progress: IngestProgress) -> String {
        let (rows, files, phase, elapsed) = progress.snapshot
        let rate = elapsed > 0 ? Int(Double(rows) / elapsed) : 0
        return "\(phase): \(rows) rows, \(rate) rows/s, files \(files)/\(progress.totalFiles), \(String(format: "%.1f", elapsed)) s"
    }
}
