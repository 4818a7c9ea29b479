import Foundation

/// A blocking queue of at most `capacity` items between two pipeline stages.
///
/// The bound is what keeps memory flat: a fast producer waits for a slow consumer, and a
/// taken item is released at once (a ring of optionals, not an array that keeps them).
/// `close()` ends the stream after what is queued; `cancel()` ends it at once and wakes
/// everyone, so one failing stage stops the others.
///
/// Items are handed over as `sending` values, so they need not be `Sendable`: the compiler
/// checks that a stage never touches what it put, and what a stage takes is its own.
package final class BoundedQueue<Element>: @unchecked Sendable {  // every stored property is touched only while `condition` is held
    private let condition = NSCondition()
    private var ring: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false
    private var cancelled = false

    package init(capacity: Int) { ring = Array(repeating: nil, count: max(1, capacity)) }

    /// Adds an item, waiting while the queue is full. Returns false once cancelled.
    @discardableResult
    package func put(_ item: sending Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == ring.count && !cancelled { condition.wait() }
        if cancelled { return false }
        ring[(head + count) % ring.count] = item
        count += 1
        condition.broadcast()
        return true
    }

    /// The next item, waiting while the queue is empty; nil when closed and drained, or cancelled.
    func take() -> sending Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed && !cancelled { condition.wait() }
        if cancelled || count == 0 { return nil }
        let item = ring[head].take()
        head = (head + 1) % ring.count
        count -= 1
        condition.broadcast()
        return item
    }

    /// What ``poll()`` found.
    enum Poll {
        case item(Element)
        /// Nothing queued now; more may come.
        case empty
        /// Closed and drained, or cancelled: nothing more will come.
        case ended
    }

    /// The next item if one is queued, without waiting.
    func poll() -> sending Poll {
        condition.lock()
        defer { condition.unlock() }
        if cancelled { return .ended }
        if count == 0 { return closed ? .ended : .empty }
        let item = ring[head].take()!
        head = (head + 1) % ring.count
        count -= 1
        condition.broadcast()
        return .item(item)
    }

    /// Whether ``cancel()`` was called: the stream ended by a failure, not by its end.
    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    package func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    package func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
