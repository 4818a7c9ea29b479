import Foundation
import Logging
import Synchronization

/// A session that holds a lock another session waits for, as `pg_stat_activity` shows it.
public struct BlockingSession: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int
    public var user: String
    public var applicationName: String
    /// `active`, `idle in transaction`, …
    public var state: String
    /// When its current (or last) query started, in UTC.
    public var queryStart: String?
    /// How long its transaction has been open, in seconds; nil outside a transaction.
    public var transactionSeconds: Double?
    /// Its current (or last) query, shortened.
    public var query: String

    /// `pid 4711 (user report, application "psql", idle in transaction, query started
    /// 2026-11-27 18:01:02 UTC, transaction open 12.4 s): SELECT count(*) FROM scores`
    public var description: String {
        var facts = ["user \(user)", "application \"\(applicationName)\"", state.isEmpty ? "state unknown" : state]
        if let queryStart { facts.append("query started \(queryStart)") }
        facts.append(transactionSeconds.map { "transaction open \(String(format: "%.1f", $0)) s" } ?? "no open transaction")
        return "pid \(pid) (\(facts.joined(separator: ", ")))" + (query.isEmpty ? "" : ": \(query)")
    }
}

/// Who blocks whom, from `pg_blocking_pids`.
public enum BlockingSessions {
    /// The sessions that block any of `waiting` right now (each once).
    public static func blocking(_ waiting: [Int32], on connection: Connection) throws -> [BlockingSession] {
        guard !waiting.isEmpty else { return [] }
        let rows = try connection.execute("""
            SELECT DISTINCT ON (a.pid) a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
                   coalesce(a.state, ''),
                   to_char(a.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC',
                   extract(epoch FROM clock_timestamp() - a.xact_start)::float8, coalesce(a.query, '')
            FROM unnest($1::int[]) AS w(pid)
            CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
            JOIN pg_stat_activity a ON a.pid = b.pid
            ORDER BY a.pid
            """, ["{" + waiting.map(String.init).joined(separator: ",") + "}"]).rows
        return rows.map { row in
            BlockingSession(pid: Int(row[0] ?? "") ?? 0, user: row[1] ?? "", applicationName: row[2] ?? "",
                            state: row[3] ?? "", queryStart: row[4], transactionSeconds: row[5].flatMap(Double.init),
                            query: Connection.abbreviate(row[6] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: ";")))
        }
    }

    /// The sentence an error ends with: who held the lock, or that nobody was seen.
    public static func describe(_ sessions: [BlockingSession]) -> String {
        guard !sessions.isEmpty else {
            return "no blocking session was seen (it held the lock too briefly to be caught)"
        }
        return "blocked by " + sessions.map(\.description).joined(separator: "; ")
    }

    /// What to do about them.
    public static func hint(_ sessions: [BlockingSession]) -> String {
        let pids = sessions.map { String($0.pid) }
        let end = pids.isEmpty ? "" : " (or end them: SELECT pg_terminate_backend(pid) FROM unnest('{\(pids.joined(separator: ","))}'::int[]) AS pid)"
        return "wait for the blocking transactions to finish\(end), then run the same command again"
    }
}

/// Watches backends that may wait for locks and remembers who blocked them.
///
/// Needed because once `lock_timeout` cancels a waiting statement, `pg_blocking_pids` of
/// that backend is empty: who blocked it can only be seen while it waits. The watcher polls
/// on a connection of its own (`greyoak lock watcher`) from a thread of its own, every
/// 100 ms, until ``stop()``.
public final class BlockingSessionWatcher: Sendable {
    private struct State {
        var waiting: [Int32] = []
        var seen: [BlockingSession] = []
        var stopped = false
    }
    /// Shared with the thread, which must not keep the watcher itself alive.
    private final class Shared: Sendable {
        let state = Mutex(State())
    }
    private let shared = Shared()
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled by ``stop()``: the thread's wait between polls ends at once, so that a run
    /// does not linger up to a poll interval at its end (a nightly load's 0.1 s in 0.3).
    private let wake = DispatchSemaphore(value: 0)

    /// Starts watching on a new connection; if that connection fails, the watcher notes it
    /// in the log and sees nothing (greyoak's own lock waits stay bounded either way).
    ///
    /// - Parameter startAfter: Seconds to wait before connecting: a run that ends sooner
    ///   never opens the connection (a nightly load's fifth connection, its backend started
    ///   while the writers load). A lock wait that ends sooner is not named, so keep it well
    ///   under the lock timeout.
    public init(settings: ConnectionSettings, logger: Logger, startAfter: Double = 0) {
        let settings = settings.named("lock watcher")
        let shared = self.shared, finished = self.finished, wake = self.wake
        let thread = Thread {
            defer { finished.signal() }
            if startAfter > 0, wake.wait(timeout: .now() + startAfter) == .success { return }
            let connection: Connection
            do {
                connection = try Connection(settings, logger: logger)
            } catch {
                logger.debug("cannot watch for blocking sessions: \(error)")
                return
            }
            defer { connection.close() }
            while !shared.state.withLock({ $0.stopped }) {
                let waiting = shared.state.withLock { $0.waiting }
                if !waiting.isEmpty, let found = try? BlockingSessions.blocking(waiting, on: connection), !found.isEmpty {
                    shared.state.withLock { $0.seen = found }
                }
                _ = wake.wait(timeout: .now() + 0.1)
            }
        }
        thread.name = "greyoak lock watcher"
        thread.start()
    }

    /// Sets the backends to watch.
    public func watch(_ pids: [Int32]) { shared.state.withLock { $0.waiting = pids } }

    /// The blockers seen most recently since the last call, and forgets them.
    public func takeBlockers() -> [BlockingSession] {
        shared.state.withLock { state in
            defer { state.seen = [] }
            return state.seen
        }
    }

    /// Stops the thread and closes its connection; safe to call more than once.
    public func stop() {
        let first = shared.state.withLock { state in
            defer { state.stopped = true }
            return !state.stopped
        }
        if first {
            wake.signal()
            finished.wait()
        }
    }

    deinit { stop() }
}
