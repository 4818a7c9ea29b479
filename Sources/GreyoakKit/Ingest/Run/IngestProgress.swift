import Foundation
import Synchronization

/// Counters the CLI's progress display reads while a run goes on.
public final class IngestProgress: Sendable {
    private struct Counters {
        var rows = 0
        var files = 0
        var phase = "reading"
    }

    private let counters = Mutex(Counters())
    public let started = Date()
    public let totalFiles: Int

    public init(totalFiles: Int) { self.totalFiles = totalFiles }

    func add(rows count: Int) { counters.withLock { $0.rows += count } }
    func fileDone() { counters.withLock { $0.files += 1 } }
    func set(phase: String) { counters.withLock { $0.phase = phase } }
    /// A second attempt counts its rows from zero.
    func restart() { counters.withLock { $0 = Counters() } }

    public var snapshot: (rows: Int, files: Int, phase: String, elapsed: Double) {
        let counters = counters.withLock { $0 }
        return (counters.rows, counters.files, counters.phase, Date().timeIntervalSince(started))
    }
}
