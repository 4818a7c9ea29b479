import GreyoakPostgres
import Foundation
import Logging

/// A throwaway database on the live server, where the schema that migrations (or a SQL file)
/// describe is built from nothing and read: `CREATE DATABASE … TEMPLATE template0`, dropped
/// afterwards.
///
/// Its name, `greyoak_scratch_<backend pid>_<random>`, carries the backend pid of the
/// session that made it, which stays connected for as long as the scratch database is in use.
/// A crash leaves it behind; the next run drops every such database whose session is gone and
/// to which nobody is connected, so concurrent runs never drop each other's.
struct ScratchDatabase {
    static let prefix = "greyoak_scratch_"

    /// The session that creates and drops it (the live connection).
    let owner: Connection
    let name: String
    let logger: Logger

    /// Creates one, after dropping what crashed runs left. Returns nil when the role may not
    /// create databases.
    static func create(_ owner: Connection, logger: Logger) throws -> ScratchDatabase? {
        dropLeftovers(owner, logger: logger)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        // Behind a pooler the client-side pid is made up (and may be negative, which is no
        // identifier): the server's own pid names the session the leftover check looks for.
        let pid = owner.pooled ? try owner.execute("SELECT pg_backend_pid()")[0, 0] ?? "0" : String(owner.backendPID)
        let name = "\(prefix)\(pid)_\(random)"
        do {
            try owner.execute("CREATE DATABASE \(name) TEMPLATE template0")
        } catch {
            // Written as a guard: `catch where` on a typed throw sends swiftc 6's
            // AllocBoxToStack pass into a loop that never ends.
            guard error.sqlState == SQLState.insufficientPrivilege else { throw error }
            return nil
        }
        return ScratchDatabase(owner: owner, name: name, logger: logger)
    }

    /// Runs `body` on a connection to the scratch database, then drops it, whatever happens.
    func use<T>(_ body: (Connection) throws -> T) throws -> T {
        defer { drop() }
        let connection = try Connection(owner.settings.database(name).named("scratch"), logger: logger)
        defer { connection.close() }
        return try body(connection)
    }

    private func drop() {
        do {
            try owner.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        } catch {
            logger.warning("could not drop the scratch database \(name): \(error); the next run drops it")
        }
    }

    /// Drops scratch databases whose creating session has ended and that nobody uses. Never
    /// fails: a leftover that cannot be dropped now (another role's, or in use) is left.
    static func dropLeftovers(_ connection: Connection, logger: Logger) {
        let leftovers: [String]
        do {
            leftovers = try connection.execute("""
                SELECT d.datname FROM pg_database d
                WHERE d.datname LIKE 'greyoak\\_scratch\\_%'
                  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                  WHERE a.pid::text = split_part(substr(d.datname, \(prefix.count + 1)), '_', 1)
                                     OR a.datid = d.oid)
                  AND pg_has_role(d.datdba, 'USAGE')
                """).column
        } catch {
            logger.debug("cannot list leftover scratch databases: \(error)")
            return
        }
        for name in leftovers {
            do {
                // Without FORCE: a session that connected since the listing keeps it alive.
                // Without IF EXISTS: two runs may race to the same leftover, and only the one
                // that dropped it should say so (IF EXISTS would also print the server's notice).
                try connection.execute("DROP DATABASE \(SchemaCatalog().quote(name))")
                logger.info("dropped \(name), a scratch database a crashed greyoak left behind")
            } catch where error.sqlState == SQLState.invalidCatalogName {
                logger.debug("leftover scratch database \(name) was dropped by another run")
            } catch {
                logger.debug("cannot drop leftover scratch database \(name): \(error)")
            }
        }
    }
}
