import Logging

/// Where greyoak's advisory locks are held, so that none outlives its holder.
///
/// - **Direct** (the work's connection goes to the server itself): session locks
///   (`pg_advisory_lock*`) on that same connection, which greyoak holds on purpose for the
///   run; they end when it is closed or its process dies. No connection more, which a server
///   with few free connections may not give.
/// - **Behind a pooler** (``Connection/pooled``): a session lock would stay on the pooler's
///   server session for its next client, so the locks are transaction-scoped
///   (`pg_advisory_xact_lock*`), held by one open transaction on a connection of their own.
///   An open transaction keeps its server session to itself, and when the client goes away
///   (SIGKILL, a lost network) the pooler closes that server session, which ends the
///   transaction and frees the locks. The transaction begins with the first lock taken (a
///   failed try ends it, so that polling pins no server session) and only holds locks: it
///   keeps no snapshot between statements that a `CREATE INDEX CONCURRENTLY` elsewhere
///   would wait for.
///
/// A lock that must end before the others (the ``LoadLock``) is taken after a
/// ``savepoint()`` and freed by ``release(_:)``: unlocked (direct), or rolled back to the
/// savepoint (pooled).
package final class LockSession {
    package let connection: Connection
    /// Whether the locks live in a transaction on a connection of their own (pooled).
    private let transactional: Bool
    /// Direct: the locks taken, in order, to unlock them.
    private var taken: [(arguments: String, shared: Bool)] = []
    /// Pooled: savepoints made, and whether a lock was taken yet.
    private var savepoints = 0
    private var holding = false

    /// Holds the locks of the work done on `work`: on it when it is direct, else on a
    /// connection of its own with its settings (the same `application_name`, so that a
    /// waiting session names the holder as before).
    package init(for work: Connection, logger: Logger) throws {
        transactional = work.pooled
        connection = transactional ? try Connection(work.settings, logger: logger) : work
    }

    deinit { close() }

    private func function(_ shared: Bool, try: Bool) -> String {
        "pg_\(`try` ? "try_" : "")advisory_\(transactional ? "xact_" : "")lock\(shared ? "_shared" : "")"
    }

    /// Takes the lock if it is free: whether it was.
    package func tryTake(_ arguments: String, shared: Bool = false) throws -> Bool {
        try begin()
        let free = try connection.execute("SELECT \(function(shared, try: true))(\(arguments))")[0, 0] == "t"
        took(arguments, shared: shared, free)
        return free
    }

    /// Takes the lock, waiting for it; the wait ends after the session's `lock_timeout`.
    package func take(_ arguments: String) throws {
        try begin()
        do {
            try connection.execute("SELECT \(function(false, try: false))(\(arguments))")
        } catch {
            took(arguments, shared: false, false)
            throw error
        }
        took(arguments, shared: false, true)
    }

    private func took(_ arguments: String, shared: Bool, _ taken: Bool) {
        if transactional {
            holding = holding || taken
            // Nothing held yet: the transaction ends, and its server session goes back to the pool.
            if !holding { _ = try? connection.execute("ROLLBACK") }
        } else if taken {
            self.taken.append((arguments, shared))
        }
    }

    private func begin() throws {
        guard transactional, connection.isIdle else { return }
        try connection.execute("BEGIN")
        // The locks live as long as this transaction: a server default that ends idle
        // transactions would end them while greyoak still counts on them.
        try connection.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
    }

    /// Marks where locks that must end before the others begin: ``release(_:)`` frees every
    /// lock taken since.
    package func savepoint() throws -> Int {
        guard transactional else { return taken.count }
        try begin()
        holding = true
        savepoints += 1
        try connection.execute("SAVEPOINT greyoak_lock_\(savepoints)")
        return savepoints
    }

    /// Frees the locks taken since savepoint `mark` (see ``savepoint()``).
    package func release(_ mark: Int) {
        if transactional {
            _ = try? connection.execute("ROLLBACK TO SAVEPOINT greyoak_lock_\(mark); RELEASE SAVEPOINT greyoak_lock_\(mark)")
            return
        }
        while taken.count > mark {
            let (arguments, shared) = taken.removeLast()
            _ = try? connection.execute("SELECT pg_advisory_unlock\(shared ? "_shared" : "")(\(arguments))")
        }
    }

    /// Throws when the session is gone, and its locks with it: checked before a step that
    /// counts on them (a load's commit point).
    package func confirm() throws {
        try connection.execute("SELECT 1")
    }

    /// Frees every lock: ends the transaction and closes its connection (pooled), or
    /// unlocks them on the work's connection (direct); safe to call more than once.
    package func close() {
        if transactional {
            if connection.isAlive { _ = try? connection.execute("ROLLBACK") }
            connection.close()
        } else if connection.isAlive {
            release(0)
        }
        taken = []
    }
}
