/// An error from PostgreSQL or from talking to it.
///
/// Modelled on postgres-nio's `PSQLError`: an extensible ``Code`` plus the server's
/// diagnostic fields and what greyoak was doing, rather than a growing enum of strings.
/// Its description never holds a password: connection strings are redacted before they
/// are stored here, and libpq's own messages are scrubbed of the password we know.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The server could not be reached or refused the login.
        public static let connectionFailed = Code("connection failed")
        /// A statement failed on the server (see ``PostgresError/sqlState``).
        public static let statementFailed = Code("statement failed")
        /// Sending COPY data failed or the server rejected it.
        public static let copyFailed = Code("COPY failed")
        /// The connection was used after it was closed or broke.
        public static let connectionClosed = Code("connection closed")
        /// The server's answer was not what the protocol promised.
        public static let protocolViolation = Code("unexpected answer")
    }

    public var code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// The primary message.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The server's context line (for example which COPY line failed).
    public var context: String?
    /// What greyoak was doing, such as `applying 183eb85141bf` or the statement text.
    public var activity: String?
    /// libpq's status of the connection when the error was made was `CONNECTION_BAD`: the
    /// connection is lost, or was never made.
    public var connectionBad = false
    /// A failed connection attempt got as far as sending the password: the server is up and
    /// refused this login (wrong password, no such database, no slot for the role).
    public var loginRefused = false

    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, context: String? = nil, activity: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.context = context
        self.activity = activity
    }

    public var description: String {
        var text = ""
        if let activity { text += "\(activity): " }
        text += message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += "\n  detail: \(detail)" }
        if let hint { text += "\n  hint: \(hint)" }
        if let context { text += "\n  context: \(context)" }
        return text
    }

    /// Returns a copy that says what greyoak was doing when the error happened.
    public func during(_ activity: String) -> PostgresError {
        var copy = self
        copy.activity = copy.activity.map { "\(activity): \($0)" } ?? activity
        return copy
    }
}

/// SQLSTATE values greyoak reacts to.
public enum SQLState {
    public static let uniqueViolation = "23505"
    /// check_violation, which is also what a row that fits no partition fails with.
    public static let checkViolation = "23514"
    public static let duplicateTable = "42P07"
    public static let duplicateObject = "42710"
    public static let insufficientPrivilege = "42501"
    /// `lock_timeout` cancelled the statement.
    public static let lockNotAvailable = "55P03"
    /// serialization_failure and deadlock_detected: the transaction lost a race.
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    /// too_many_connections.
    public static let tooManyConnections = "53300"
    /// admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown, cannot_connect_now.
    public static let serverGoingAway: Set<String> = ["57P01", "57P02", "57P03"]
    /// Class 08: connection exceptions.
    public static let connectionExceptionClass = "08"
    /// "cannot run inside a transaction block" (`COMMIT PREPARED`, `CREATE INDEX CONCURRENTLY`).
    public static let activeSQLTransaction = "25001"
    /// invalid_catalog_name: the database does not exist (any more).
    public static let invalidCatalogName = "3D000"
}
