import GreyoakPostgres
/// How the validator asks for `scores`' rows in a range of dates, and the coordinator's
/// thread (whose connection alone may read them, see ``ExistingRowsQuery``) answers: one
/// request at a time, which the validator may post ahead and take later. Two
/// ``BoundedQueue``s of one item: requests one way, answers the other.
package final class ExistingRowsChannel: Sendable {
    package struct Request: Sendable {
        package var low: Int64
        package var high: Int64
        package var limit: Int
    }

    private let requests = BoundedQueue<Request>(capacity: 1)
    private let answers = BoundedQueue<Result<[RowFingerprint]?, any Error>>(capacity: 1)

    /// The validator: the fingerprints of the rows with `low <= scoring_date < high`, nil
    /// when there are more than `limit`. Throws the coordinator's error, or
    /// `CancellationError` once the pass is stopped.
    func fetch(_ request: Request) throws -> [RowFingerprint]? {
        post(request)
        return try take()
    }

    /// The validator: asks, without waiting; ``take()`` waits for the answer. One request at
    /// a time: the answer to the last is taken before the next is posted.
    func post(_ request: Request) {
        requests.put(request)
    }

    /// The validator: the answer to the request it posted.
    func take() throws -> [RowFingerprint]? {
        guard let answer = answers.take() else { throw CancellationError() }
        return try answer.get()
    }

    /// The coordinator: answers requests with `body` until ``end()``.
    func serve(_ body: (Request) throws -> [RowFingerprint]?) {
        while let request = requests.take() {
            answers.put(Result { try body(request) })
        }
    }

    /// No more requests: the pass is over or stopped.
    func end() {
        requests.cancel()
        answers.cancel()
    }
}
