import Foundation

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
