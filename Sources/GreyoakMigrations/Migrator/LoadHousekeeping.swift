import Logging
import GreyoakPostgres

/// What `db upgrade`, `db downgrade` and `verify` need from the loader's bookkeeping.
///
/// Loads live in the part above this one, so the migrator reaches them through this
/// protocol, and the command line wires in the loader's implementation (`IngestHousekeeping`).
public protocol LoadHousekeeping: Sendable {
    /// Creates the loader's own tables that do not exist yet, inside the caller's transaction.
    func createTables(_ connection: Connection) throws

    /// Finishes or rolls back loads that were interrupted: their prepared transactions hold
    /// locks on `scores` that a migration would wait for.
    func recoverInterruptedLoads(_ connection: Connection, logger: Logger) throws

    /// Places the shared staging table as `scores` is placed (distributed on Citus or not),
    /// after migrations that may have changed `scores`.
    func followScores(_ connection: Connection, logger: Logger) throws

    /// Problems (unfinished loads) and notes for `verify`'s report.
    func inspect(_ connection: Connection) throws -> (problems: [String], notes: [String])
}
