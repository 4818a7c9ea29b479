import Foundation

/// Where a run's rows go.
public enum LoadMode: String, Sendable {
    /// Into the staging table, then classified and upserted: any input.
    case staging
    /// Straight into `scores` by binary COPY, which PostgreSQL inserts in bulk: for runs
    /// whose first rows' dates `scores` does not hold (a backfill of new days, the nightly
    /// load). Should a row exist after all, the COPY fails on the primary key and the run
    /// starts again through the staging table.
    case direct
}

/// A one-shot value: the load mode, set once by the validator, awaited by the writers.
final class LoadModeGate: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var value: LoadMode?
    private var cancelled = false

    func set(_ mode: LoadMode) {
        condition.lock()
        if value == nil { value = mode }
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The mode once set; nil if the run was cancelled first.
    func wait() -> LoadMode? {
        condition.lock()
        defer { condition.unlock() }
        while value == nil && !cancelled { condition.wait() }
        return value
    }
}
