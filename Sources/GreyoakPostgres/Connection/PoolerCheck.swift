import Foundation

/// Whether a connection pooler (PgBouncer, Odyssey, Supavisor ...) stands between greyoak and
/// the server, and what a pooled session needs.
///
/// A pooler in transaction mode hands each transaction of a client to whichever server
/// session is free, so a session lock or `SET` lands on a server session that other clients
/// then use, and the next statement may run somewhere else. greyoak keeps every lock and
/// setting inside a transaction (see ``LockSession``) and, on a pooled connection, sets the
/// session defaults it would have sent at startup (`lock_timeout`) with `set_config(..., true)`
/// in each transaction. What needs a session of its own uses the direct URL
/// (``ConnectionSettings/direct``) or is refused.
enum PoolerCheck {
    /// Marks `connection` pooled when the server process it reports at startup is not the one
    /// that answers: a pooler makes up the process id (and cancel key) it gives its clients.
    /// Refuses statement pooling, which cannot keep even one transaction together.
    static func run(_ connection: Connection) throws(PostgresError) {
        if !connection.pooled {
            let answering = try connection.send("SELECT pg_backend_pid()", [])[0, 0]
            connection.pooled = answering != String(connection.backendPID)
        }
        guard connection.pooled else { return }
        do {
            try connection.send("BEGIN", [])
            try connection.send("COMMIT", [])
        } catch {
            guard error.message.contains("statement pooling") || connection.isAlive == false else { throw error }
            throw PostgresError(code: .connectionFailed, message: """
                the connection pooler at \(connection.settings) runs in statement pooling mode, which cannot keep a \
                transaction together: greyoak refuses it (a load or a migration would be torn apart). Point \
                DATABASE_URL at a pooler in transaction or session mode, or at the server itself
                """, activity: "checking the connection pooler (\(error.message))")
        }
    }

    /// Runs `sql` on a pooled connection with the session defaults greyoak wants
    /// (``ConnectionSettings/startupSettings``), which the pooler would not carry: after a
    /// `BEGIN`, and around a statement sent outside a transaction, as `set_config(..., true)`.
    /// A statement that refuses a transaction block (`COMMIT PREPARED`) runs as sent.
    static func executeWithSettings(_ connection: Connection, _ sql: String, _ parameters: [String?]) throws(PostgresError) -> QueryResult {
        guard connection.isIdle else { return try connection.send(sql, parameters) }
        let head = sql.drop { $0.isWhitespace }.prefix(20).uppercased()
        if head.hasPrefix("BEGIN") || head.hasPrefix("START TRANSACTION") {
            let result = try connection.send(sql, parameters)
            try setLocally(connection)
            return result
        }
        if ["COMMIT", "ROLLBACK", "END", "ABORT"].contains(where: head.hasPrefix) && !head.hasPrefix("COMMIT PREPARED")
            && !head.hasPrefix("ROLLBACK PREPARED") {
            return try connection.send(sql, parameters)
        }
        try connection.send("BEGIN", [])
        do {
            try setLocally(connection)
            let result = try connection.send(sql, parameters)
            if !connection.isIdle { try connection.send("COMMIT", []) }
            return result
        } catch {
            if connection.isAlive && !connection.isIdle { _ = try? connection.send("ROLLBACK", []) }
            guard error.sqlState == SQLState.activeSQLTransaction, connection.isAlive else { throw error }
            return try connection.send(sql, parameters)
        }
    }

    private static func setLocally(_ connection: Connection) throws(PostgresError) {
        let settings = connection.settings.startupSettings.sorted { $0.key < $1.key }
        guard !settings.isEmpty else { return }
        let calls = settings.indices.map { "set_config('\(settings[$0].key)', $\($0 + 1), true)" }
        try connection.send("SELECT " + calls.joined(separator: ", "), settings.map(\.value))
    }
}
