import Foundation

/// A temporary file that is unlinked as soon as it is made, so nothing is left behind however
/// the process ends, and closed with its owner. Positioned reads and writes only (`pread`,
/// `pwrite`), so readers on other threads need no shared offset; a signal (EINTR) is retried.
///
/// Holds what does not fit in bounded memory: standard input kept to be read again
/// (``StdinSpool``), the rows of new partitions (``AttachSpool``).
final class UnlinkedFile: Sendable {
    private let fd: Int32

    /// Nil when no file can be made in `TMPDIR`; the caller says what for.
    init?(prefix: String) {
        var template = Array((NSTemporaryDirectory() + "/\(prefix)-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes all of `bytes` at `offset`.
    /// - Throws: the system's reason, as text, for the caller to put in its own error.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Failure) {
        var done = 0
        while done < bytes.count {
            done += try retrying { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(Failure) {
        var done = 0
        while done < bytes.count {
            done += try retrying { bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) } }
        }
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; 0 past the end.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(Failure) -> Int {
        try retrying { pread(fd, buffer, count, off_t(offset)) }
    }

    /// Why a read or write failed (`strerror`).
    struct Failure: Error {
        let reason: String
    }

    private func retrying(_ call: () -> Int) throws(Failure) -> Int {
        while true {
            let n = call()
            if n >= 0 { return n }
            if errno != EINTR { throw Failure(reason: String(cString: strerror(errno))) }
        }
    }
}
