import Logging
import GreyoakPostgres

/// Picks a run's ``LoadMode`` from its first rows' dates: ``LoadMode/direct`` when
/// `scores` holds none of them, else ``LoadMode/compare``. Both hold the ``LoadLock`` from
/// here to the commit, so that no other greyoak run writes `scores` meanwhile: the direct
/// COPY counts on its dates staying empty, the comparison on the rows it read staying as
/// they were.
///
/// Used on the coordinator's thread only, with the coordinator's connection: the validator
/// asks through the ``LoadModeGate``.
final class LoadedDatesProbe: LoadModeProbe {
    private let connection: Connection
    private let locks: LockSession
    private let logger: Logger
    /// The ``LoadLock``'s savepoint while it is held.
    private var loadLock: Int?
    var holdsLoadLock: Bool { loadLock != nil }

    init(_ connection: Connection, locks: LockSession, logger: Logger) {
        self.connection = connection
        self.locks = locks
        self.logger = logger
    }

    /// - Parameter allowDirect: False after a direct COPY met an existing key: compare.
    /// - Throws: What the lock wait and the query fail with, except a refusal of the query
    ///   alone (see ``usesStaging(after:)``): a lock timeout names its blockers, a lost
    ///   connection is retried by the run.
    func mode(for dates: Set<Int64>, allowDirect: Bool) throws -> LoadMode {
        loadLock = try LoadLock.acquire(locks, logger: logger)
        guard allowDirect, !dates.isEmpty else { return .compare }
        let list = "{" + dates.sorted().map { "\"\(CivilTime.format($0))\"" }.joined(separator: ",") + "}"
        do {
            let loaded = try connection.execute(
                "SELECT EXISTS (SELECT 1 FROM scores WHERE scoring_date = ANY($1::timestamp[]))", [list])[0, 0] == "t"
            return loaded ? .compare : .direct
        } catch {
            guard Self.usesStaging(after: error) else { throw error }
            logger.info("cannot check the loaded dates (\(error)); using the staging table")
            releaseLoadLock()
            return .staging
        }
    }

    /// Whether the loaded-dates query's failure leaves the load to the staging table: the
    /// server refused that statement (a statement timeout, say) and the session goes on.
    /// Not a lock timeout, a lost connection or any other passing failure: those end the
    /// attempt like any other statement's.
    static func usesStaging(after error: any Error) -> Bool {
        guard let error = error as? PostgresError, error.sqlState != nil, !error.connectionBad else { return false }
        return TransientFailure.kind(of: error) == nil
    }

    /// The coordinator's part of a ``LoadMode/compare`` pass: `scores`' rows, for the validator.
    func existingRows(_ request: ExistingRowsChannel.Request) throws -> [RowFingerprint]? {
        try ExistingRowsQuery.fetch(connection, from: request.low, to: request.high, limit: request.limit)
    }

    func releaseLoadLock() {
        if let loadLock { LoadLock.release(locks, loadLock) }
        loadLock = nil
    }
}
