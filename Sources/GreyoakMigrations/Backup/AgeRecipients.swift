import Foundation
import GreyoakPostgres

/// Who can read an encrypted backup: age recipients (`--backup-recipient`, an `age1...` or
/// SSH public key, repeatable) and recipients files (`--backup-recipients-file`, one key a
/// line, `#` comments), passed to `age` as its `-r` and `-R`.
///
/// age itself is the judge of what a valid recipient is: ``validate()`` encrypts nothing to
/// them before anything is done, so a mistyped key stops the command instead of leaving a
/// migration without a backup, or a backup nobody can read.
public struct AgeRecipients: Sendable, Equatable {
    public let keys: [String]
    public let files: [String]

    public init(keys: [String], files: [String]) {
        self.keys = keys
        self.files = files
    }

    public var isEmpty: Bool { keys.isEmpty && files.isEmpty }

    /// age's arguments that name the recipients.
    var arguments: [String] { keys.flatMap { ["-r", $0] } + files.flatMap { ["-R", $0] } }

    /// `age` on `PATH` (Debian's package puts it in /usr/bin).
    static var executable: String { DatabaseBackup.onPath("age") }

    /// Checks that `age` runs and takes every recipient, by encrypting empty input to them.
    ///
    /// - Throws: ``GreyoakError/Code/usage`` naming the recipient or file age refused, or
    ///   saying that `age` is missing.
    public func validate() throws {
        for file in files where !FileManager.default.isReadableFile(atPath: file) {
            throw GreyoakError(.usage, "--backup-recipients-file \(file): no such readable file; nothing was done")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["--encrypt"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw GreyoakError(.usage, "cannot run \(Self.executable) to encrypt the backup: \(error.localizedDescription); nothing was done",
                               hint: "install age (scripts/setup does), or leave out the --backup-recipient options")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GreyoakError(.usage, "age refused the backup recipients: \(Self.firstError(message)); nothing was done",
                               hint: "a recipient is an age public key (age1...) or an SSH public key; `age-keygen -y KEYFILE` prints the one of a key")
        }
    }

    /// age's error line, without its "report a bug" boilerplate.
    static func firstError(_ text: String) -> String {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.first { $0.hasPrefix("age: error:") }.map { String($0.dropFirst("age: error:".count)).trimmingCharacters(in: .whitespaces) }
            ?? lines.first ?? "exit status unknown"
    }
}
