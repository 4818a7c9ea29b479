import Logging

/// Answers whether a run may copy straight into `scores`: when none of its first rows'
/// dates is loaded. It takes the ``LoadLock`` first, so that no other greyoak run writes
/// those dates meanwhile, and keeps it when the answer is yes.
///
/// Used on the coordinator's thread only, with the coordinator's connection: the validator
/// asks through the ``LoadModeGate``.
final class LoadedDatesProbe {
    private let connection: Connection
    private let logger: Logger
    private(set) var holdsLoadLock = false

    init(_ connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func mode(for dates: Set<Int64>) -> LoadMode {
        guard !dates.isEmpty else { return .staging }
        do {
            try LoadLock.acquire(connection, logger: logger)
            holdsLoadLock = true
            let list = "{" + dates.sorted().map { "\"\(CivilTime.format($0))\"" }.joined(separator: ",") + "}"
            let loaded = try connection.execute(
                "SELECT EXISTS (SELECT 1 FROM scores WHERE scoring_date = ANY($1::timestamp[]))", [list])[0, 0] == "t"
            if loaded { releaseLoadLock() }
            return loaded ? .staging : .direct
        } catch {
            logger.debug("cannot check the loaded dates (\(error)); using the staging table")
            return .staging
        }
    }

    func releaseLoadLock() {
        LoadLock.release(connection)
        holdsLoadLock = false
    }
}
