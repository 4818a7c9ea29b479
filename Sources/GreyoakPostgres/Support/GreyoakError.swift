/// A failure greyoak reports to a person: what went wrong, where, and what to do next.
///
/// The ``Code`` decides the process exit status, so scripts can tell "behind head" from
/// "cannot connect" without reading text.
public struct GreyoakError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// The process exit status for this kind of failure (documented in the README).
        public let exitStatus: Int32
        public var description: String { name }

        public static let failure = Code(name: "failure", exitStatus: 1)
        public static let usage = Code(name: "usage", exitStatus: 2)
        public static let behindHead = Code(name: "behind head", exitStatus: 3)
        public static let aheadOrUnknown = Code(name: "ahead of the code or unknown revision", exitStatus: 4)
        public static let multipleHeads = Code(name: "multiple heads", exitStatus: 5)
        public static let lockTimeout = Code(name: "lock not obtained", exitStatus: 6)
        public static let cannotConnect = Code(name: "cannot connect", exitStatus: 7)
        public static let drift = Code(name: "drift", exitStatus: 8)
        public static let invalidInput = Code(name: "invalid input", exitStatus: 9)
        public static let databaseError = Code(name: "database error", exitStatus: 10)
        public static let planRefused = Code(name: "plan refused by --fail-on", exitStatus: 11)
        /// `db check`: another session holds the schema lock exclusively.
        public static let migrationRunning = Code(name: "migration running", exitStatus: 12)
        /// `db check`: a load was interrupted and recovery has not resolved it yet.
        public static let loadInterrupted = Code(name: "load interrupted", exitStatus: 13)
    }

    public var code: Code
    public var message: String
    /// What to do next, when there is something to do.
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String {
        hint.map { "\(message)\n  hint: \($0)" } ?? message
    }
}

extension GreyoakError {
    /// Wraps any error into a ``GreyoakError`` so the CLI can pick an exit status.
    public static func from(_ error: any Error) -> GreyoakError {
        let code = Code(for: error)
        switch error {
        case let error as GreyoakError:
            return error
        case let error as PostgresError:
            return GreyoakError(code, error.description, hint: code == .cannotConnect ? connectionHint(error.message) : nil)
        default:
            return GreyoakError(code, "\(error)")
        }
    }

    /// What to do about a failed connection. libpq gives no SQLSTATE for a refused
    /// connection, so the server's (English) message is all there is to tell a full server by.
    static func connectionHint(_ message: String) -> String {
        let full = ["too many connections", "too many clients", "remaining connection slots"]
        if full.contains(where: message.contains) {
            return "the server has no connection free: wait for other sessions to end, use fewer --writers, " +
                "or raise max_connections (or the role's or database's CONNECTION LIMIT)"
        }
        return "check DATABASE_URL (or PGHOST, PGPORT, PGUSER, PGDATABASE) and that the server is running"
    }
}
