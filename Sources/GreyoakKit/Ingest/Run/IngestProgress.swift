import Foundation

/// Counters the CLI's progress display reads while a run goes on.
public final class IngestProgress: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var rows = 0
    private var files = 0
    private var phase = "reading"
    public let started = Date()
    public let totalFiles: Int

    public init(totalFiles: Int) { self.totalFiles = totalFiles }

    func add(rows count: Int) { lock.withLock { rows += count } }
    func fileDone() { lock.withLock { files += 1 } }
    func set(phase: String) { lock.withLock { self.phase = phase } }
    /// A second attempt counts its rows from zero.
    func restart() { lock.withLock { rows = 0; files = 0; phase = "reading" } }

    public var snapshot: (rows: Int, files: Int, phase: String, elapsed: Double) {
        lock.withLock { (rows, files, phase, Date().timeIntervalSince(started)) }
    }
}
