import Foundation
import GreyoakPostgres

/// Another session that holds locks while a test runs greyoak: it runs `sql` (which should
/// end in a long `pg_sleep`) on a thread of its own, as application `name`.
package struct Blocker {
    package let pid: String
    package let task: Task<Void, any Error>

    /// Starts the session and returns once `pg_locks` shows it holding what `held` says
    /// (a condition on `l`, such as `l.relation = 'scores'::regclass AND l.granted`).
    package static func start(_ db: TestDatabase, name: String = "report-query", sql: String, held: String) async throws -> Blocker {
        let task = onThread {
            let connection = try db.connect()
            try connection.execute("SET application_name = '\(name)'")
            _ = try? connection.execute(sql)  // ends with an error when the test terminates it
        }
        for _ in 0..<200 {
            if let pid = try db.column("""
                SELECT a.pid::text FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
                WHERE a.application_name = '\(name)' AND \(held)
                """).first {
                return Blocker(pid: pid, task: task)
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        task.cancel()
        throw GreyoakError(.failure, "the blocking session never took its lock")
    }

    /// Ends the session (its transaction rolls back) and waits for its thread.
    package func end(_ db: TestDatabase) async throws {
        try db.query("SELECT pg_terminate_backend(\(pid))")
        try await task.value
    }
}

/// Runs blocking work (a libpq call that waits on a lock) on a thread of its own: on Swift's
/// cooperative pool it would hold one of its few threads and starve the other tests.
package func onThread(_ body: @escaping @Sendable () throws -> Void) -> Task<Void, any Error> {
    Task {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
