import Foundation
import Testing

/// What one run of the `greyoak` binary did.
package struct CLIResult: Sendable, CustomStringConvertible {
    let arguments: [String]
    package let status: Int32
    package let stdout: String
    /// stderr without the lines of housekeeping that another test may have caused (see
    /// ``housekeeping``); `rawStderr` keeps them.
    package var stderr: String {
        rawStderr.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !Self.housekeeping.contains { line.contains($0) } }
            .joined(separator: "\n")
    }
    package let rawStderr: String

    /// Lines any run may print because of what a concurrent test left on the shared server:
    /// a verify drops every dead scratch database, the leftover test's deliberate one too.
    static let housekeeping = ["a scratch database a crashed greyoak left behind"]

    /// stdout split into lines, without the final newline's empty line.
    package var lines: [String] {
        var lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    package var description: String {
        "greyoak \(arguments.joined(separator: " ")) -> exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(rawStderr)"
    }
}

/// Runs the real `greyoak` executable as a child process.
package enum CLI {
    /// `GREYOAK_BIN`, else `greyoak` in the build directory the test bundle runs from
    /// (found by walking up from the test runner towards `debug/greyoak`).
    package static let binary: String? = {
        let fm = FileManager.default
        if let path = ProcessInfo.processInfo.environment["GREYOAK_BIN"], !path.isEmpty { return path }
        let starts = [Bundle.main.executablePath, CommandLine.arguments.first].compactMap { $0 }
        for start in starts {
            var directory = URL(fileURLWithPath: start).resolvingSymlinksInPath().deletingLastPathComponent()
            while directory.path != "/" {
                for candidate in ["greyoak", "debug/greyoak"] {
                    let path = directory.appendingPathComponent(candidate).path
                    var isDirectory: ObjCBool = false
                    if fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                       fm.isExecutableFile(atPath: path) {
                        return path
                    }
                }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }()

    /// Runs `greyoak <arguments>`; `--migrations <dir>` is appended when `migrations` is given.
    /// Outside a test that holds one of the ``TestSlots`` the run waits for one first (the
    /// timeout counts from the start of the child).
    ///
    /// - Parameters:
    ///   - databaseURL: `DATABASE_URL` for the child; nil removes it.
    ///   - environment: Extra variables (nil values remove a variable). `PGPASSFILE` and the
    ///     rest of the test's environment pass through; `GREYOAK_MIGRATIONS` and the `PG*`
    ///     connection variables do not, so only the test decides where greyoak connects.
    ///   - stdin: A file to give the child as standard input; nil gives it /dev/null.
    ///   - timeout: Seconds after which the child is killed and the test fails.
    ///   - whileRunning: Runs once the child has started, beside it, with its output so far: a
    ///     test acts on what the child has said (``ChildOutput/waitForStderr(containing:timeout:)``)
    ///     rather than after a guessed sleep, which a slot wait or a loaded machine outlasts.
    package static func run(
        _ arguments: [String], databaseURL: String?, migrations: String? = nil,
        environment: [String: String?] = [:], stdin: String? = nil, timeout: Double = 60,
        whileRunning: (@Sendable (ChildOutput) async throws -> Void)? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CLIResult {
        try await TestSlots.withSlot {
            try await runChild(arguments, databaseURL: databaseURL, migrations: migrations, environment: environment,
                               stdin: stdin, timeout: timeout, whileRunning: whileRunning, sourceLocation: sourceLocation)
        }
    }

    private static func runChild(
        _ arguments: [String], databaseURL: String?, migrations: String?,
        environment: [String: String?], stdin: String?, timeout: Double,
        whileRunning: (@Sendable (ChildOutput) async throws -> Void)?, sourceLocation: SourceLocation
    ) async throws -> CLIResult {
        let binary = try #require(binary, """
            cannot find the greyoak executable: set GREYOAK_BIN, or build it next to the tests \
            (swift build --scratch-path .build-tests)
            """, sourceLocation: sourceLocation)
        var arguments = arguments
        if let migrations { arguments += ["--migrations", migrations] }

        var env = ProcessInfo.processInfo.environment
        for key in ["GREYOAK_MIGRATIONS", "DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE"] {
            env[key] = nil
        }
        env["DATABASE_URL"] = databaseURL
        for (key, value) in environment { env[key] = value }

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Files rather than pipes: nothing to drain while the child runs.
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = env
        if let stdin {
            let input = try #require(FileHandle(forReadingAtPath: stdin), "cannot read \(stdin)", sourceLocation: sourceLocation)
            process.standardInput = input
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = out
        process.standardError = err
        process.currentDirectoryURL = scratch

        let started = AsyncSemaphore(0)
        async let watcher: Void = {
            guard let whileRunning else { return }
            await started.wait()
            try await whileRunning(ChildOutput(stderrPath: errURL.path))
        }()
        let timedOut = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
            let state = TerminationState(continuation)
            process.terminationHandler = { _ in state.finish(timedOut: false) }
            do {
                try process.run()
            } catch {
                started.signal()
                state.fail(error)
                return
            }
            started.signal()
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if state.markTimedOut() { kill(pid, SIGKILL) }
            }
        }
        try await watcher
        let result = CLIResult(
            arguments: arguments, status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            rawStderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
        if timedOut { Issue.record("timed out after \(timeout) s and was killed:\n\(result)", sourceLocation: sourceLocation) }
        return result
    }
}

/// What a running child has written so far, for ``CLI/run(_:databaseURL:migrations:environment:stdin:timeout:whileRunning:sourceLocation:)``.
package struct ChildOutput: Sendable {
    let stderrPath: String

    /// stderr so far.
    package var stderr: String {
        String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)
    }

    /// Returns once stderr contains `text`; fails the test after `timeout` seconds.
    package func waitForStderr(
        containing text: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !stderr.contains(text) {
            try #require(Date() < deadline, "the child did not print \"\(text)\" in \(timeout) s:\n\(stderr)",
                         sourceLocation: sourceLocation)
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Resumes the continuation exactly once: when the child exits (remembering whether the
/// timeout had fired and killed it) or when it cannot be started.
private final class TerminationState: @unchecked Sendable {
    // All fields are guarded by `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Bool, any Error>?
    private var timedOut = false

    init(_ continuation: CheckedContinuation<Bool, any Error>) { self.continuation = continuation }

    func finish(timedOut _: Bool) {
        lock.lock()
        let continuation = self.continuation, timedOut = self.timedOut
        self.continuation = nil
        lock.unlock()
        continuation?.resume(returning: timedOut)
    }

    func fail(_ error: any Error) {
        lock.lock()
        let continuation = self.continuation
        self.continuation = nil
        lock.unlock()
        continuation?.resume(throwing: error)
    }

    /// True when the child is still running, so it should be killed.
    func markTimedOut() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard continuation != nil else { return false }
        timedOut = true
        return true
    }
}
