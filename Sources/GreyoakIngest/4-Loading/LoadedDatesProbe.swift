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
final class LoadedDatesProbe {
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
    func mode(for dates: Set<Int64>, allowDirect: Bool) -> LoadMode {
        do {
            loadLock = try LoadLock.acquire(locks, logger: logger)
            guard allowDirect, !dates.isEmpty else { return .compare }
            let list = "{" + dates.sorted().map { "\"\(CivilTime.format($0))\"" }.joined(separator: ",") + "}"
            let loaded = try connection.execute(
                "SELECT EXISTS (SELECT 1 FROM scores WHERE scoring_date = ANY($1::timestamp[]))", [list])[0, 0] == "t"
            return loaded ? .compare : .direct
        } catch {
            logger.debug("cannot check the loaded dates (\(error)); using the staging table")
            if holdsLoadLock { releaseLoadLock() }
            return .staging
        }
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
