import Foundation

/// Bounds how many database tests run at once, so the connections they open stay well
/// under the server's `max_connections` however many cores the machine has.
///
/// Swift Testing starts every test at once, and a test that awaits a child process frees its
/// thread, so nothing else bounds them: on a many-core CI machine dozens of `greyoak ingest`
/// runs (each a coordinator plus up to four writers) once met "remaining connection slots
/// are reserved". A test holds one slot from ``withTestDatabase(_:)`` to the drop of its
/// database; work that holds no slot (a suite's shared database, tests without one) takes
/// one per `greyoak` process instead. Inside a slot a test may run several processes at
/// once, as the lock tests must.
///
/// Width: `GREYOAK_TEST_PARALLEL`, else 6. At 6, at most about 6 × (2 processes × 5
/// connections + 2) = 72 connections are open, under PostgreSQL's default of 100.
enum TestSlots {
    /// True inside a test that holds a slot (its children take none).
    @TaskLocal static var held = false

    static let width: Int = {
        let value = ProcessInfo.processInfo.environment["GREYOAK_TEST_PARALLEL"].flatMap { Int($0) } ?? 6
        return max(1, value)
    }()

    private static let pool = AsyncSemaphore(width)

    /// Runs `body` holding a slot, unless the task holds one already.
    static func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        if held { return try await body() }
        await pool.wait()
        defer { pool.signal() }
        return try await $held.withValue(true) { try await body() }
    }
}

/// A counting semaphore whose waiters suspend instead of blocking a thread, served in order.
final class AsyncSemaphore: @unchecked Sendable {
    // Both fields are guarded by `lock`.
    private let lock = NSLock()
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { available = count }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if available > 0 {
                available -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    func signal() {
        lock.lock()
        if waiters.isEmpty {
            available += 1
            lock.unlock()
        } else {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }
}
