import Foundation
import GreyoakPostgres

/// greyoak's own tables, beside `alembic_version`: the migration log, the ingest ledger, the
/// load journal and the shared staging table. `greyoak db upgrade` makes them, so that a
/// load role needs no CREATE on the schema; `verify` leaves them out of the catalog.
public enum Bookkeeping {
    /// Creates every bookkeeping table that does not exist yet: the migration log here, the
    /// loads' own tables through `housekeeping`.
    static func create(_ connection: Connection, _ housekeeping: any LoadHousekeeping) throws {
        try AuditLog.create(connection)
        try housekeeping.createTables(connection)
    }

    /// The bookkeeping tables a load needs, checked before it reads anything.
    ///
    /// A database migrated by Alembic or an older greyoak has none: they are made here if this
    /// role may, else the run stops saying which command makes them.
    package static func requireForLoad(_ connection: Connection, _ housekeeping: any LoadHousekeeping) throws {
        let missing = try connection.execute(
            "SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NULL ORDER BY t",
            ["{" + GreyoakTables.forLoads.joined(separator: ",") + "}"]).column
        guard !missing.isEmpty else { return }
        do {
            try connection.transaction { try create(connection, housekeeping) }
        } catch let error as PostgresError where error.sqlState == SQLState.insufficientPrivilege {
            throw GreyoakError(.behindHead,
                               "greyoak's bookkeeping table(s) \(missing.joined(separator: ", ")) do not exist, and this role may not create them (\(error.message))",
                               hint: "run `greyoak db upgrade head` as the migrator role: it makes them")
        }
    }
}
