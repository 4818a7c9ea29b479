import Foundation

/// A value shared between pipeline threads, guarded by a lock.
final class LockedBox<Value>: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
