import Foundation
import GreyoakPostgres

/// How a migration waits for locks: each statement waits at most `timeout`
/// (`lock_timeout`), and a migration that timed out is rolled back and tried again after a
/// growing, jittered pause, up to `retries` times.
///
/// Why: a DDL statement that queues for ACCESS EXCLUSIVE makes every later reader of the
/// table queue behind it. A short `lock_timeout` bounds that stall to about `timeout`; the
/// pauses between attempts let the readers through.
public struct LockRetryPolicy: Sendable, Equatable {
    public var timeout: LockTimeout
    public var retries: Int
    /// The first pause; each next one doubles, up to `maximumDelay`.
    public var initialDelay: Double
    public var maximumDelay: Double

    /// The defaults: 2 s waits, 10 retries with pauses of 1, 2, 4, 8, then 10 s (each ±25 %),
    /// so a migration that keeps timing out gives up after one to two minutes.
    public init(timeout: LockTimeout = .ddlDefault, retries: Int = 10, initialDelay: Double = 1, maximumDelay: Double = 10) {
        self.timeout = timeout
        self.retries = retries
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// The pause before retry number `retry` (1-based), with ±25 % jitter so that several
    /// migrators (or a migrator and a periodic job) do not keep colliding in step.
    public func delay(beforeRetry retry: Int) -> Double {
        backoff.delay(beforeRetry: retry)
    }

    var backoff: Backoff { Backoff(initial: initialDelay, maximum: maximumDelay, jitter: 0.75...1.25) }

    /// SQLSTATE 55P03: the statement was cancelled by `lock_timeout`.
    static func isLockTimeout(_ error: PostgresError) -> Bool { error.sqlState == SQLState.lockNotAvailable }
}

/// What a migration that ran out of lock retries waited for.
public struct LockWait: Sendable, CustomStringConvertible {
    /// Attempts made (the first try plus every retry).
    public var attempts: Int
    public var timeout: LockTimeout
    /// Who held the lock the last time greyoak saw it wait.
    public var blockers: [BlockingSession]
    public var seconds: Double

    public var description: String {
        "gave up after \(attempts) attempt(s) over \(String(format: "%.0f", seconds)) s, each waiting at most \(timeout) for a lock; "
            + BlockingSessions.describe(blockers)
    }
}
