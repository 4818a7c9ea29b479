import Foundation
import Logging

/// Failures that pass, told apart by SQLSTATE class and libpq's connection status, never
/// by message text (which the server translates).
///
/// A load restarts from the start on ``Kind/serverUnavailable`` only, before its commit
/// point, for up to `--connect-retry` seconds; after the commit point, never. The other
/// kinds are for the callers that retry them on their own terms (lock waits).
public enum TransientFailure {
    public enum Kind: Sendable, Equatable {
        /// The server is not (yet, or any more) there, or ended the session: 57P01-57P03,
        /// class 08, a lost connection, or a connection attempt that never got an answer.
        case serverUnavailable
        /// The transaction lost a race: 40001, 40P01.
        case conflict
        /// `lock_timeout` ended a wait: 55P03.
        case lockTimeout
        /// No connection slot: 53300.
        case noConnectionSlot
    }

    /// What kind of passing failure `error` is; nil when it would fail again.
    public static func kind(of error: any Error) -> Kind? {
        guard let error = error as? PostgresError else { return nil }
        if let state = error.sqlState {
            switch state {
            case _ where SQLState.serverGoingAway.contains(state), _ where state.hasPrefix(SQLState.connectionExceptionClass):
                return .serverUnavailable
            case SQLState.serializationFailure, SQLState.deadlockDetected: return .conflict
            case SQLState.lockNotAvailable: return .lockTimeout
            case SQLState.tooManyConnections: return .noConnectionSlot
            default: return nil
            }
        }
        // No SQLSTATE: libpq's own failure. A lost connection passes; so does a connection
        // attempt the server never answered (down, starting, refusing at the door), unlike
        // one it answered by refusing the login.
        if error.connectionBad && !error.loginRefused { return .serverUnavailable }
        return error.code == .connectionClosed ? .serverUnavailable : nil
    }

    /// Whether `error` is worth starting a load again for.
    public static func matches(_ error: any Error) -> Bool { kind(of: error) == .serverUnavailable }

    /// The pauses between connection attempts.
    static let connectBackoff = Backoff(initial: 0.25, maximum: 2)

    /// Connects, retrying a server that is not there yet for up to `seconds`, with backoff.
    ///
    /// - Throws: The last connection error once the time is up, or any other error at once.
    public static func connect(_ settings: ConnectionSettings, logger: Logger, retryFor seconds: Double) throws -> Connection {
        var retry = RetryDeadline(connectBackoff, seconds: seconds)
        while true {
            let failure: PostgresError
            do {
                return try Connection(settings, logger: logger)
            } catch {
                failure = error
            }
            guard failure.code == .connectionFailed, matches(failure), !retry.isExhausted else { throw failure }
            if retry.retries == 0 {
                logger.warning("cannot connect yet (\(failure.message.split(separator: "\n").first ?? "")); retrying for up to \(Int(seconds)) s")
            }
            _ = retry.pause()
        }
    }
}
