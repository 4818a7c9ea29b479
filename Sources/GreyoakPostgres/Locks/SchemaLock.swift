import Foundation
import Logging

/// The PostgreSQL advisory lock that keeps migrations and loads apart.
///
/// Migrations take it exclusively, ingests take it shared: two `upgrade head` started at
/// once run one after the other, and no migration runs under a load. It is a session lock
/// (non-transactional migrations commit several times while holding it), taken by polling
/// `pg_try_advisory_lock*` rather than blocking: a blocked `pg_advisory_lock` can deadlock
/// with `CREATE INDEX CONCURRENTLY`, which waits for every other transaction.
public enum SchemaLock {
    public enum Mode: Sendable {
        case exclusive, shared
        var suffix: String { self == .shared ? "_shared" : "" }
    }

    /// "greyoak" in ASCII: one key that any tool can recognise in `pg_locks`.
    static let key: Int64 = 0x67_7265_796F_616B

    /// Takes the lock, polling until `timeout` seconds have passed.
    ///
    /// - Throws: ``GreyoakError/Code/lockTimeout`` naming the sessions that hold it.
    public static func acquire(_ connection: Connection, mode: Mode, timeout: Double, logger: Logger) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var wait = 0.05
        var announced = false
        while true {
            if try connection.execute("SELECT pg_try_advisory_lock\(mode.suffix)(\(key))")[0, 0] == "t" { return }
            if Date() >= deadline {
                throw GreyoakError(.lockTimeout,
                                   "could not take the schema lock (\(mode)) within \(timeout) s: held by \(try holders(connection))",
                                   hint: "a migration or a load is running; wait for it, or raise --lock-timeout")
            }
            if !announced {
                let holders = try holders(connection)
                logger.info("waiting for the schema lock, held by \(holders)")
                announced = true
            }
            Thread.sleep(forTimeInterval: min(wait, max(0, deadline.timeIntervalSinceNow)))
            wait = min(wait * 2, 0.5)
        }
    }

    public static func release(_ connection: Connection, mode: Mode) {
        _ = try? connection.execute("SELECT pg_advisory_unlock\(mode.suffix)(\(key))")
    }

    /// Runs `body` holding the lock, releasing it however `body` ends.
    public static func withLock<T>(_ connection: Connection, mode: Mode, timeout: Double, logger: Logger,
                                   _ body: () throws -> T) throws -> T {
        try acquire(connection, mode: mode, timeout: timeout, logger: logger)
        defer { release(connection, mode: mode) }
        return try body()
    }

    /// Who holds the lock, as `pid 123 (greyoak, ExclusiveLock)`.
    static func holders(_ connection: Connection, key: Int64 = SchemaLock.key) throws -> String {
        let rows = try connection.execute("""
            SELECT l.pid, coalesce(a.application_name, ''), l.mode
            FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = \(key >> 32) AND l.objid = \(key & 0xFFFF_FFFF)
            ORDER BY l.pid
            """).rows
        if rows.isEmpty { return "a session that has just released it" }
        return rows.map { "pid \($0[0] ?? "?") (\($0[1] ?? ""), \($0[2] ?? ""))" }.joined(separator: ", ")
    }
}
