import Foundation

/// How the validator asks for `scores`' rows in a range of dates, and the coordinator's
/// thread (whose connection alone may read them, see ``ExistingRowsQuery``) answers: one
/// request at a time, which the validator may post ahead and take later.
final class ExistingRowsChannel: @unchecked Sendable {  // every stored property is touched only under `condition`
    struct Request: Sendable {
        var low: Int64
        var high: Int64
        var limit: Int
    }

    private let condition = NSCondition()
    private var request: Request?
    private var answer: Result<[RowFingerprint]?, any Error>?
    private var ended = false

    /// The validator: the fingerprints of the rows with `low <= scoring_date < high`, nil
    /// when there are more than `limit`. Throws the coordinator's error, or
    /// `CancellationError` once the pass is stopped.
    func fetch(_ request: Request) throws -> [RowFingerprint]? {
        post(request)
        return try take()
    }

    /// The validator: asks, without waiting; ``take()`` waits for the answer. One request at
    /// a time.
    func post(_ request: Request) {
        condition.lock()
        defer { condition.unlock() }
        self.request = request
        answer = nil
        condition.broadcast()
    }

    /// The validator: the answer to the request it posted.
    func take() throws -> [RowFingerprint]? {
        condition.lock()
        defer { condition.unlock() }
        while answer == nil && !ended { condition.wait() }
        guard let answer else { throw CancellationError() }
        self.answer = nil
        return try answer.get()
    }

    /// The coordinator: answers requests with `body` until ``end()``.
    func serve(_ body: (Request) throws -> [RowFingerprint]?) {
        while let request = awaitRequest() {
            let result = Result { try body(request) }
            condition.lock()
            answer = result
            condition.broadcast()
            condition.unlock()
        }
    }

    private func awaitRequest() -> Request? {
        condition.lock()
        defer { condition.unlock() }
        while request == nil && !ended { condition.wait() }
        guard !ended, let request else { return nil }
        self.request = nil
        return request
    }

    /// No more requests: the pass is over or stopped.
    func end() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }
}
