import Foundation
import Synchronization
import GreyoakPostgres

/// How a child process of a backup ended: its name, exit status and what it said on stderr.
struct ChildOutcome: Sendable {
    let name: String
    let status: Int32
    let message: String

    /// Runs `first`, and `second` reading `first`'s standard output through a pipe (`pg_dump |
    /// age`); waits for both.
    ///
    /// The parent closes its ends of the pipe once both children run: `second` sees the end
    /// of its input when `first` exits, and `first` gets EPIPE (and fails) if `second` dies.
    /// Each stderr is read on its own thread, so neither child blocks on a full stderr pipe.
    ///
    /// - Returns: The outcomes, `first`'s then `second`'s.
    /// - Throws: The error of a child that could not be started (the other one is killed).
    static func pipeline(_ first: Process, into second: Process?) throws -> [ChildOutcome] {
        let children = [first] + (second.map { [$0] } ?? [])
        let pipe = second == nil ? nil : Pipe()
        if let pipe, let second {
            first.standardOutput = pipe
            second.standardInput = pipe
        }
        let readers = children.map { child in
            let errors = Pipe()
            child.standardError = errors
            return StderrReader(errors.fileHandleForReading)
        }
        var started: [Process] = []
        do {
            for child in children {
                try child.run()
                started.append(child)
            }
        } catch {
            for child in started { child.terminate() }
            throw GreyoakError(.failure, "\(children[started.count].executableURL?.path ?? "a child process"): \(error.localizedDescription)")
        }
        try? pipe?.fileHandleForWriting.close()
        try? pipe?.fileHandleForReading.close()
        return zip(children, readers).map { child, reader in
            child.waitUntilExit()
            return ChildOutcome(name: child.executableURL?.lastPathComponent ?? "?", status: child.terminationStatus,
                                message: reader.text().trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

/// Reads a child's stderr to its end on a thread of its own.
private final class StderrReader: Sendable {
    private let data = Mutex(Data())
    /// Signalled once the reading thread has stored everything.
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            let bytes = handle.readDataToEndOfFile()
            data.withLock { $0 = bytes }
            done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return data.withLock { String(decoding: $0, as: UTF8.self) }
    }
}
