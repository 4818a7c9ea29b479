import Logging

/// A connection of its own whose one open transaction holds greyoak's advisory locks.
///
/// The locks are transaction-scoped (`pg_advisory_xact_lock*`): they end with the
/// transaction, so none outlives its holder however the holder ends. Through a connection
/// pooler in transaction mode an open transaction keeps its server session to itself, and
/// when the client goes away (SIGKILL, a lost network) the pooler closes that server
/// session, which ends the transaction and frees the locks; a session lock would have stayed
/// on the pooled server session for the next client. Direct, the same holds without a pooler.
///
/// The transaction only holds locks: it reads nothing between statements, so it keeps no
/// snapshot that a `CREATE INDEX CONCURRENTLY` elsewhere would wait for. A lock that must end
/// before the others (the ``LoadLock``) is taken in a savepoint and freed by rolling back to it.
final class LockSession {
    let connection: Connection
    private var savepoints = 0
    /// Whether a lock was taken: until then a failed try ends the transaction, so that a
    /// session polling for a lock keeps no server session of a pooler to itself meanwhile.
    private var holding = false

    /// Connects with `settings` (its `application_name` names the holder in `pg_locks`
    /// reports); the transaction begins with the first lock.
    init(_ settings: ConnectionSettings, logger: Logger) throws {
        connection = try Connection(settings, logger: logger)
    }

    deinit { close() }

    /// `pg_try_advisory_xact_lock[_shared](arguments)`: whether the lock was free.
    func tryTake(_ arguments: String, shared: Bool = false) throws -> Bool {
        try begin()
        let taken = try connection.execute("SELECT pg_try_advisory_xact_lock\(shared ? "_shared" : "")(\(arguments))")[0, 0] == "t"
        holding = holding || taken
        if !holding { try connection.execute("ROLLBACK") }
        return taken
    }

    private func begin() throws {
        guard connection.isIdle else { return }
        try connection.execute("BEGIN")
        // The locks live as long as this transaction: a server default that ends idle
        // transactions would end them while greyoak still counts on them.
        try connection.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
    }

    /// Marks where locks that must end before the others begin: ``release(_:)`` frees every
    /// lock taken since.
    func savepoint() throws -> Int {
        try begin()
        holding = true
        savepoints += 1
        try connection.execute("SAVEPOINT greyoak_lock_\(savepoints)")
        return savepoints
    }

    /// Frees the locks taken since savepoint `name` (see ``savepoint()``).
    func release(_ name: Int) {
        _ = try? connection.execute("ROLLBACK TO SAVEPOINT greyoak_lock_\(name); RELEASE SAVEPOINT greyoak_lock_\(name)")
    }

    /// Throws when the session is gone, and its locks with it: checked before a step that
    /// counts on them (a load's commit point).
    func confirm() throws {
        try connection.execute("SELECT 1")
    }

    /// Ends the transaction, which frees every lock; safe to call more than once.
    func close() {
        if connection.isAlive { _ = try? connection.execute("ROLLBACK") }
        connection.close()
    }
}
