import ArgumentParser
import Foundation
import GreyoakPostgres
import GreyoakMigrations

/// `greyoak`: only maps flags onto library calls and errors onto exit statuses.
struct GreyoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "greyoak",
        abstract: "Load GreyOak scores into PostgreSQL and keep its schema right.",
        version: Greyoak.version,
        subcommands: [DBCommand.self, IngestCommand.self]
    )
}

@main
enum Main {
    static func main() {
        do {
            var command = try GreyoakCommand.parseAsRoot()
            try command.run()
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            exit(report(error))
        }
    }

    /// Prints an error the way Alembic does (`FAILED: ...` on stderr) and picks the exit status.
    static func report(_ error: any Error) -> Int32 {
        let text: String
        switch error {
        case let error as MigrationFailure:
            text = error.description
        case let error as MigrationFileError:
            text = error.description
        case is GreyoakError, is PostgresError:
            text = GreyoakError.from(error).description
        default:
            // Everything else comes from argument parsing: help and version exit 0,
            // usage errors exit 2 with the message and the usage line.
            let code = GreyoakCommand.exitCode(for: error)
            if code == .success { GreyoakCommand.exit(withError: error) }
            FileHandle.standardError.write(Data((GreyoakCommand.fullMessage(for: error) + "\n").utf8))
            return code == .validationFailure ? GreyoakError.Code.usage.exitStatus : code.rawValue
        }
        StderrLogHandler.writePlain(label: "greyoak", "FAILED: \(text)")
        return GreyoakError.Code(for: error).exitStatus
    }
}
