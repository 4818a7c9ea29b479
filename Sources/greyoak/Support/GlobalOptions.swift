import ArgumentParser
import Foundation
import Logging
import GreyoakPostgres
import GreyoakMigrations

/// Options every command takes: where the database and the migrations are, and how chatty to be.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("database-url"),
            help: "PostgreSQL URL; overrides DATABASE_URL, which overrides the PG* variables.")
    var databaseURL: String?

    @Option(name: .customLong("direct-url"),
            help: "The PostgreSQL server itself, when the database URL is a connection pooler: for what needs a session of its own (non-transactional migrations, --backup); overrides GREYOAK_DIRECT_URL.")
    var directURL: String?

    @Option(help: "Directory of migration files (default: $GREYOAK_MIGRATIONS, else ./migrations).")
    var migrations: String?

    @Flag(name: .shortAndLong, help: "Only print warnings and errors on stderr.")
    var quiet = false

    @Option(name: .customLong("log-format"),
            help: "Log lines on stderr as text (default) or json, one object per line (default: $GREYOAK_LOG_FORMAT, else text).")
    var logFormat: LogFormat?

    var settings: ConnectionSettings { ConnectionSettings(url: databaseURL, directURL: directURL) }

    var migrationsDirectory: String {
        migrations ?? ProcessInfo.processInfo.environment["GREYOAK_MIGRATIONS"] ?? "migrations"
    }

    func logger(_ label: String) -> Logger {
        bootstrapLogging()
        return Logger(label: label)
    }

    /// The migration files' graph; sets up logging too, for commands that need no logger.
    func graph() throws -> RevisionGraph {
        bootstrapLogging()
        return try RevisionGraph(directory: migrationsDirectory)
    }

    private func bootstrapLogging() {
        let level = ProcessInfo.processInfo.environment["GREYOAK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        let format = logFormat ?? ProcessInfo.processInfo.environment["GREYOAK_LOG_FORMAT"].flatMap(LogFormat.init(rawValue:)) ?? .text
        Logging.bootstrapOnce(level: quiet ? .warning : level ?? .info, format: format)
    }

    /// Connects as `greyoak <part>` (its `application_name`).
    func connect(_ logger: Logger, part: String = "db") throws -> Connection {
        try Connection(settings.named(part), logger: logger)
    }
}

enum Logging {
    nonisolated(unsafe) private static var bootstrapped = false
    /// The CLI is single-threaded while it parses and sets up, so a plain flag suffices.
    static func bootstrapOnce(level: Logger.Level, format: LogFormat) {
        guard !bootstrapped else { return }
        bootstrapped = true
        StderrLogHandler.format = format
        LoggingSystem.bootstrap { StderrLogHandler(label: $0, logLevel: level) }
    }
}
