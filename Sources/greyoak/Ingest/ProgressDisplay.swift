import Dispatch
import Foundation
import GreyoakIngest

/// Shows how a load goes on stderr: a redrawn bar with the share of input bytes read and an
/// ETA on a terminal, a plain line with the same fields every 5 seconds otherwise (for logs
/// of scheduled runs). See ``ProgressReport``.
final class ProgressDisplay {
    // The timer's handler reads only `progress` (Sendable), never `self`.
    private let progress: IngestProgress
    /// A redrawn bar only on a terminal and in text: a JSON log gets lines.
    private let isTerminal = isatty(STDERR_FILENO) == 1 && StderrLogHandler.format == .text
    private var timer: (any DispatchSourceTimer)?

    init(progress: IngestProgress) { self.progress = progress }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "greyoak.progress"))
        let interval: DispatchTimeInterval = isTerminal ? .milliseconds(200) : .seconds(5)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [progress, isTerminal] in
            let report = progress.report
            // Cut to the terminal's width: a wrapped line would not be redrawn in place.
            if isTerminal {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + String(report.bar().prefix(Self.terminalWidth() - 1))).utf8))
            } else {
                StderrLogHandler.write(level: .info, label: "greyoak.ingest", message: report.line)
            }
        }
        timer.resume()
        self.timer = timer
    }

    func stop() {
        timer?.cancel()
        timer = nil
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
