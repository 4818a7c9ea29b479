import Foundation

/// Counters the CLI's progress display reads while a run goes on.
public final class IngestProgress: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var rows = 0
    private var files = 0
    private var bytes = 0
    private var phase = "reading"
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

    func add(rows count: Int) { lock.withLock { rows += count } }
    func add(bytes count: Int) { lock.withLock { bytes += count } }
    func fileDone() { lock.withLock { files += 1 } }
    func set(phase: String) { lock.withLock { self.phase = phase } }
    /// A second attempt counts its rows from zero.
    func restart() { lock.withLock { rows = 0; files = 0; bytes = 0; phase = "reading" } }

    public var snapshot: (rows: Int, files: Int, phase: String, elapsed: Double) {
        lock.withLock { (rows, files, phase, Date().timeIntervalSince(started)) }
    }

    /// Everything the display shows, read at one instant.
    public var report: ProgressReport {
        lock.withLock {
            ProgressReport(phase: phase, rows: rows, files: files, totalFiles: totalFiles, bytes: bytes, totalBytes: totalBytes,
                           elapsed: Date().timeIntervalSince(started))
        }
    }
}
