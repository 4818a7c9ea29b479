import GreyoakPostgres
import Foundation
import Logging

/// The `--dev-url` database: one that greyoak may wipe, for roles that cannot create
/// databases (Atlas's "dev database"). Every schema and extension in it is dropped before
/// and after use, and `public` made anew; it must not be the live database.
struct DevDatabase {
    let connection: Connection

    init(settings: ConnectionSettings, live: Connection, logger: Logger) throws {
        connection = try Connection(settings.named("dev"), logger: logger)
        let identity = "SELECT current_database() || '@' || coalesce(inet_server_addr()::text, 'socket') || ':' || current_setting('port') || '/' || (SELECT system_identifier FROM pg_control_system())"
        if let here = try? connection.execute(identity)[0, 0], let there = try? live.execute(identity)[0, 0], here == there {
            connection.close()
            throw GreyoakError(.usage, "--dev-url names the live database itself; greyoak wipes the --dev-url database",
                               hint: "give it an empty database of its own: createdb greyoak_dev")
        }
    }

    /// Runs `body` on the wiped database, and wipes it again after.
    func use<T>(_ body: (Connection) throws -> T) throws -> T {
        defer { connection.close() }
        try wipe()
        defer { try? wipe() }
        return try body(connection)
    }

    private func wipe() throws {
        try connection.execute("RESET ALL")
        let catalog = SchemaCatalog()
        func quote(_ name: String) -> String { catalog.quote(name) }
        for name in try connection.execute("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'").column {
            try connection.execute("DROP EXTENSION IF EXISTS \(quote(name)) CASCADE")
        }
        for name in try connection.execute("""
            SELECT nspname FROM pg_namespace
            WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
            """).column {
            try connection.execute("DROP SCHEMA IF EXISTS \(quote(name)) CASCADE")
        }
        try connection.execute("CREATE SCHEMA public")
    }
}
