import Foundation
import Logging

/// The PostgreSQL advisory lock that keeps migrations and loads apart.
///
/// Migrations take it exclusively, ingests take it shared: two `upgrade head` started at
/// once run one after the other, and no migration runs under a load. It is held by a
/// ``LockSession``: a session lock on the work's own connection (a non-transactional
/// migration commits several times while holding it), or, behind a connection pooler, a
/// transaction lock in an open transaction of its own, so that it frees itself with its
/// holder. It is taken by polling `pg_try_advisory_[xact_]lock*` rather than blocking: a
/// blocked lock call keeps a snapshot while it waits, and `CREATE INDEX CONCURRENTLY`, which
/// waits for every older snapshot, would deadlock with it (flyway#3497).
public enum SchemaLock {
    public enum Mode: Sendable {
        case exclusive, shared
    }

    /// "greyoak" in ASCII: one key that any tool can recognise in `pg_locks`.
    package static let key: Int64 = 0x67_7265_796F_616B

    /// Takes the lock, polling until `timeout` seconds have passed.
    ///
    /// - Throws: ``GreyoakError/Code/lockTimeout`` naming the sessions that hold it.
    package static func acquire(_ session: LockSession, mode: Mode, timeout: Double, logger: Logger) throws {
        let connection = session.connection
        var retry = RetryDeadline(poll, seconds: timeout)
        var announced = false
        while true {
            if try session.tryTake("\(key)", shared: mode == .shared) { return }
            if retry.isExhausted {
                throw GreyoakError(.lockTimeout,
                                   "could not take the schema lock (\(mode)) within \(timeout) s: held by \(try holders(connection))",
                                   hint: "a migration or a load is running; wait for it, or raise --lock-timeout")
            }
            if !announced {
                let holders = try holders(connection)
                logger.info("waiting for the schema lock, held by \(holders)")
                announced = true
            }
            _ = retry.pause()
        }
    }

    /// How often ``acquire(_:mode:timeout:logger:)`` tries again.
    static let poll = Backoff(initial: 0.05, maximum: 0.5)

    /// Runs `body` holding the lock (in a ``LockSession`` for `connection`), releasing it
    /// however `body` ends.
    public static func withLock<T>(_ connection: Connection, mode: Mode, timeout: Double, logger: Logger,
                                   _ body: () throws -> T) throws -> T {
        let session = try LockSession(for: connection, logger: logger)
        defer { session.close() }
        try acquire(session, mode: mode, timeout: timeout, logger: logger)
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
