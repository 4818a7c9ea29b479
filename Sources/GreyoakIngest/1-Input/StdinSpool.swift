import Foundation
import GreyoakPostgres
import Synchronization

/// Standard input, kept: every byte a run reads from it is also written to a temporary file
/// (unlinked at once, so nothing is left behind however the process ends), and a later pass
/// reads it from there, then goes on from standard input where the file ends.
///
/// This is what lets standard input be read more than once, like a file: a dry run screens
/// its keys in fixed memory and reads it again for the few candidates (instead of
/// remembering every key), a load may take the direct path or compare mode (both may have to
/// start again), and a transient failure may retry the load. The price is disk, not memory:
/// the bytes as they came (compressed, if gzip), in `TMPDIR`.
///
/// Read by one pass at a time (a pass ends before the next starts); the offsets are behind a
/// ``Mutex`` all the same.
final class StdinSpool: Sendable {
    private let file: UnlinkedFile
    private struct Offsets {
        var written = 0
        var inputEnded = false
    }

    private let offsets = Mutex(Offsets())

    init() throws {
        guard let file = UnlinkedFile(prefix: "greyoak-stdin") else {
            throw Self.failure("cannot create a file in \(NSTemporaryDirectory())")
        }
        self.file = file
    }

    /// Reads up to `count` bytes of standard input from `offset`: from the file while it
    /// holds them, then from standard input (writing them to the file). 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws -> Int {
        try offsets.withLock { offsets in
            do {
                if offset < offsets.written {
                    let n = try file.read(into: buffer, count: min(count, offsets.written - offset), at: offset)
                    guard n > 0 else { throw Self.failure("the kept copy ended early") }
                    return n
                }
                guard !offsets.inputEnded else { return 0 }
                let n = try retrying { Foundation.read(STDIN_FILENO, buffer, count) }
                if n == 0 {
                    offsets.inputEnded = true
                    return 0
                }
                try file.write(UnsafeRawBufferPointer(start: buffer, count: n), at: offsets.written)
                offsets.written += n
                return n
            } catch let failure as UnlinkedFile.Failure {
                throw Self.failure(failure.reason)
            }
        }
    }

    private func retrying(_ call: () -> Int) throws -> Int {
        while true {
            let n = call()
            if n >= 0 { return n }
            // A signal (a terminal resize) is not an error.
            if errno != EINTR { throw Self.failure(String(cString: strerror(errno))) }
        }
    }

    private static func failure(_ reason: String) -> GreyoakError {
        GreyoakError(.invalidInput, "<stdin>: cannot keep a copy to read it again: \(reason)",
                     hint: "set TMPDIR to a directory with room for the input")
    }
}
