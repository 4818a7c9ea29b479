import Logging
import GreyoakMigrations
import GreyoakPostgres

/// The loader's side of ``LoadHousekeeping``: its tables, its crash recovery and the
/// placement of its staging table, for the migrator and `verify`.
public struct IngestHousekeeping: LoadHousekeeping {
    public init() {}

    public func createTables(_ connection: Connection) throws {
        try IngestLedger.create(connection)
        try LoadJournal.create(connection)
        try SharedStaging.create(connection)
    }

    public func recoverInterruptedLoads(_ connection: Connection, logger: Logger) throws {
        try LoadRecovery(connection: connection, logger: logger).run()
    }

    public func followScores(_ connection: Connection, logger: Logger) throws {
        try SharedStaging.followScores(connection, logger: logger)
    }

    public func inspect(_ connection: Connection) throws -> (problems: [String], notes: [String]) {
        try LoadRecovery.inspect(connection)
    }
}
