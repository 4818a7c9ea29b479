import Foundation
import Synchronization

/// Counters the CLI's progress display reads while a run goes on.
public final class IngestProgress: Sendable {
    private struct Counters {
        var rows = 0
        var files = 0
        var bytes = 0
        var phase = "reading"
    }

    private let counters = Mutex(Counters())
    /// Time spent in each phase, for the run's metrics; kept across a restart (the time was spent).
    private let clock = Mutex(PhaseClock(phase: "reading", since: Date()))
    public let started = Date()
    public let totalFiles: Int
    /// Bytes in all the input files as stored (compressed for `.gz`), or nil when one of
    /// them has no size known beforehand (standard input, a pipe).
    public let totalBytes: Int?

    public init(totalFiles: Int, totalBytes: Int? = nil) {
        self.totalFiles = totalFiles
        self.totalBytes = totalBytes
    }

    /// The sizes of `files` added up, or nil when one of them is not a regular file.
    static func totalBytes(of files: [InputFile]) -> Int? {
        var total = 0
        for file in files {
            guard let path = file.path,
                  let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let size = attributes[.size] as? NSNumber else { return nil }
            total += size.intValue
        }
        return total
    }

    func add(rows count: Int) { counters.withLock { $0.rows += count } }
    func add(bytes count: Int) { counters.withLock { $0.bytes += count } }
    func fileDone() { counters.withLock { $0.files += 1 } }
    func set(phase: String) {
        counters.withLock { $0.phase = phase }
        clock.withLock { $0.enter(phase, at: Date()) }
    }

    /// A second attempt counts its rows from zero.
    func restart() {
        counters.withLock { $0 = Counters() }
        clock.withLock { $0.enter(Counters().phase, at: Date()) }
    }

    /// Seconds spent in each phase so far, in the order the phases began: `reading` (the
    /// schema gate, then reading, parsing, validating and sending, which overlap), then
    /// `checking duplicates`, `upserting`, `committing` as far as the run got.
    public var phaseSeconds: [(phase: String, seconds: Double)] {
        clock.withLock { $0.totals(at: Date()) }
    }

    public var snapshot: (rows: Int, files: Int, phase: String, elapsed: Double) {
        let counters = counters.withLock { $0 }
        return (counters.rows, counters.files, counters.phase, Date().timeIntervalSince(started))
    }

    /// Everything the display shows, read at one instant.
    public var report: ProgressReport {
        let counters = counters.withLock { $0 }
        return ProgressReport(phase: counters.phase, rows: counters.rows, files: counters.files, totalFiles: totalFiles,
                              bytes: counters.bytes, totalBytes: totalBytes, elapsed: Date().timeIntervalSince(started))
    }
}

/// Which phase a run is in since when, and how long the phases before took.
private struct PhaseClock {
    var phase: String
    var since: Date
    var spent: [(phase: String, seconds: Double)] = []

    mutating func enter(_ next: String, at now: Date) {
        spent = totals(at: now)
        phase = next
        since = now
    }

    func totals(at now: Date) -> [(phase: String, seconds: Double)] {
        var totals = spent
        let seconds = now.timeIntervalSince(since)
        if let index = totals.firstIndex(where: { $0.phase == phase }) {
            totals[index].seconds += seconds
        } else {
            totals.append((phase, seconds))
        }
        return totals
    }
}
