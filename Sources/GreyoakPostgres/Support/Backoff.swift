import Dispatch
import Foundation

/// The pauses of a retry loop: `initial`, then each one `multiplier` times the last, up to
/// `maximum`, each scaled by a random factor from `jitter` (so that several processes
/// retrying the same thing do not keep colliding in step).
package struct Backoff: Sendable, Equatable {
    package var initial: Double
    package var multiplier = 2.0
    package var maximum: Double
    package var jitter: ClosedRange<Double> = 1...1

    package init(initial: Double, multiplier: Double = 2, maximum: Double, jitter: ClosedRange<Double> = 1...1) {
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The same pause every time: polling.
    package static func constant(_ seconds: Double) -> Backoff {
        Backoff(initial: seconds, multiplier: 1, maximum: seconds)
    }

    /// The pause before retry number `retry` (1-based).
    package func delay(beforeRetry retry: Int) -> Double {
        let base = min(maximum, initial * pow(multiplier, Double(max(0, retry - 1))))
        return jitter == 1...1 ? base : base * Double.random(in: jitter)
    }
}

/// Where a retry loop reads the time and sleeps; tests inject one that only records.
package protocol RetryClock: Sendable {
    /// Seconds on a monotonic clock.
    func now() -> Double
    func sleep(_ seconds: Double)
}

/// The process's monotonic clock and `Thread.sleep`.
package struct SystemRetryClock: RetryClock {
    package init() {}
    package func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    package func sleep(_ seconds: Double) { if seconds > 0 { Thread.sleep(forTimeInterval: seconds) } }
}

/// One retry loop's bound and schedule: it gives up once `seconds` have passed since it was
/// made, or after `retries` retries, whichever comes first (nil: no such bound; every loop
/// has at least one). Every loop in greyoak that waits and tries again uses one, so that
/// each wait is bounded the same way.
///
///     var retry = RetryDeadline(Backoff(initial: 0.05, maximum: 0.5), seconds: timeout)
///     while true {
///         if try attempt() { return }
///         guard retry.pause() else { throw timedOut }
///     }
package struct RetryDeadline {
    package let backoff: Backoff
    private let clock: any RetryClock
    private let end: Double?
    private let maxRetries: Int?
    /// Retries so far (pauses taken).
    package private(set) var retries = 0

    package init(_ backoff: Backoff, seconds: Double? = nil, retries: Int? = nil, clock: any RetryClock = SystemRetryClock()) {
        precondition(seconds != nil || retries != nil, "a retry loop needs a bound")
        self.backoff = backoff
        self.clock = clock
        end = seconds.map { clock.now() + max(0, $0) }
        maxRetries = retries
    }

    /// Seconds until the deadline (never negative); infinity without one.
    package var remaining: Double { end.map { max(0, $0 - clock.now()) } ?? .infinity }

    /// Whether the loop should give up now.
    package var isExhausted: Bool {
        if let maxRetries, retries >= maxRetries { return true }
        if let end, clock.now() >= end { return true }
        return false
    }

    /// The next pause (shortened to end at the deadline) and counts the retry; nil when the
    /// loop should give up instead. Does not sleep: see ``pause()``.
    package mutating func next() -> Double? {
        guard !isExhausted else { return nil }
        retries += 1
        return min(backoff.delay(beforeRetry: retries), remaining)
    }

    /// Sleeps the next pause and returns true, or returns false at once when the loop
    /// should give up.
    package mutating func pause() -> Bool {
        guard let delay = next() else { return false }
        clock.sleep(delay)
        return true
    }
}
