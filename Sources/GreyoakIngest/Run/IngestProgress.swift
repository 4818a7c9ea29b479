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
    func set(phase: String) { counters.withLock { $0.phase = phase } }
    /// A second attempt counts its rows from zero.
    func restart() { counters.withLock { $0 = Counters() } }

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
