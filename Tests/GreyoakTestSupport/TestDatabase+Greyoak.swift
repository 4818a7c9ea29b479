import Foundation
import Testing

/// A URL where nothing listens: commands that must not connect are run with it.
package let unreachableDatabaseURL = "postgresql://nobody@127.0.0.1:1/x"

extension TestDatabase {
    /// Runs `greyoak <arguments> --migrations <migrations>` with `DATABASE_URL` set to this database.
    package func greyoak(
        _ arguments: String..., migrations: String, environment: [String: String?] = [:], timeout: Double = 60,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CLIResult {
        try await CLI.run(arguments, databaseURL: url, migrations: migrations, environment: environment,
                          timeout: timeout, sourceLocation: sourceLocation)
    }

    /// Like ``greyoak(_:migrations:environment:timeout:sourceLocation:)``, but the test stops
    /// unless the command exits 0.
    @discardableResult
    package func succeed(
        _ arguments: String..., migrations: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CLIResult {
        let result = try await CLI.run(arguments, databaseURL: url, migrations: migrations, sourceLocation: sourceLocation)
        try #require(result.status == 0, "expected exit 0:\n\(result)", sourceLocation: sourceLocation)
        return result
    }
}

/// The lowercase hex SHA-256 of a file, from coreutils rather than greyoak's own code.
package func sha256sum(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sha256sum", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let digest = String(output.prefix(64))
    try #require(process.terminationStatus == 0 && digest.count == 64, "sha256sum \(path) failed: \(output)",
                 sourceLocation: sourceLocation)
    return digest
}
