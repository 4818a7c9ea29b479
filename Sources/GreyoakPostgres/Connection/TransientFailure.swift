import Foundation
import Logging

/// Failures that pass: a server restarting, starting up or shutting down, or an
/// administrator ending a session. Before a load's commit point greyoak retries them for up to
/// `--connect-retry` seconds, starting the load again from the start; after it, never.
public enum TransientFailure {
    /// What libpq says when the server is not (yet, or any more) there. It gives no SQLSTATE
    /// for a failed connection, so the text is all there is.
    static let connectMessages = [
        "Connection refused", "the database system is starting up", "the database system is shutting down",
        "the database system is in recovery mode", "the database system is not yet accepting connections",
        "the database system is not accepting connections", "No such file or directory",
        "server closed the connection unexpectedly",
    ]

    /// admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown, cannot_connect_now.
    static let sqlStates: Set<String> = ["57P01", "57P02", "57P03"]

    /// Whether `error` is worth retrying from the start.
    public static func matches(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError else { return false }
        if let state = error.sqlState { return sqlStates.contains(state) }
        return connectMessages.contains(where: error.message.contains) || error.code == .connectionClosed
    }

    /// Connects, retrying a server that is not there yet for up to `seconds`, with backoff.
    ///
    /// - Throws: The last connection error once the time is up, or any other error at once.
    public static func connect(_ settings: ConnectionSettings, logger: Logger, retryFor seconds: Double) throws -> Connection {
        let deadline = Date().addingTimeInterval(seconds)
        var delay = 0.25
        var announced = false
        while true {
            let failure: PostgresError
            do {
                return try Connection(settings, logger: logger)
            } catch {
                failure = error
            }
            guard failure.code == .connectionFailed, connectMessages.contains(where: failure.message.contains), Date() < deadline else {
                throw failure
            }
            if !announced {
                logger.warning("cannot connect yet (\(failure.message.split(separator: "\n").first ?? "")); retrying for up to \(Int(seconds)) s")
                announced = true
            }
            Thread.sleep(forTimeInterval: min(delay, max(0.05, deadline.timeIntervalSinceNow)))
            delay = min(delay * 2, 2)
        }
    }
}
