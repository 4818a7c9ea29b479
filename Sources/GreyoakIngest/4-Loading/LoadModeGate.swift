import Foundation

/// The load mode of one attempt, set once: asked by the validator with its first rows'
/// dates, answered on the coordinator's thread (whose connection alone may find out which
/// dates `scores` holds), awaited by the validator and the writers.
final class LoadModeGate: @unchecked Sendable {  // every stored property is touched only under `condition`
    private let condition = NSCondition()
    private var question: Set<Int64>?
    private var value: LoadMode?
    private var cancelled = false

    /// The validator: asks where rows with these scoring dates should go.
    func ask(_ dates: Set<Int64>) {
        condition.lock()
        if question == nil { question = dates }
        condition.broadcast()
        condition.unlock()
    }

    /// The coordinator: the validator's question once asked; nil if the mode was set without
    /// one, or the run was cancelled first.
    func awaitQuestion() -> Set<Int64>? {
        condition.lock()
        defer { condition.unlock() }
        while question == nil && value == nil && !cancelled { condition.wait() }
        return value == nil && !cancelled ? question : nil
    }

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
