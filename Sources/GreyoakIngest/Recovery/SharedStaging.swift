import Logging
import GreyoakPostgres

/// `greyoak_stage` as a permanent, unlogged table, for two-phase loads: a prepared
/// transaction may not touch a temporary table, so their writers stage here instead of in a
/// temporary `greyoak_stage` (which, where it exists, hides this one on the search path).
/// On Citus, with `scores` distributed, loads stage here too, in shards beside `scores`'
/// (``followScores(_:logger:)``).
///
/// It is empty between loads: a writer sees only its own uncommitted rows in it and deletes
/// them before it prepares (or, on Citus, before it commits). Unlogged, because staged rows
/// need no crash safety (a crash rolls the load back) and so cost no WAL; `db upgrade`
/// makes it, so loads need no CREATE.
enum SharedStaging {
    static let table = GreyoakTables.sharedStaging

    static func create(_ connection: Connection) throws {
        if try connection.execute("SELECT to_regclass('greyoak_stage') IS NULL")[0, 0] == "t" {
            try connection.execute(StagingSQL.stagingTable(temporary: false))
        }
    }

    /// Rows left in it (committed by something other than greyoak: greyoak commits none).
    static func leftoverRows(_ connection: Connection) throws -> Int {
        guard try connection.execute("SELECT to_regclass('greyoak_stage') IS NOT NULL")[0, 0] == "t" else { return 0 }
        return Int(try connection.execute("SELECT count(*) FROM greyoak_stage")[0, 0] ?? "0") ?? 0
    }

    /// Places `greyoak_stage` as `scores` is placed, where Citus is installed:
    ///
    /// - `scores` distributed: `greyoak_stage` distributed by ticker and colocated with it.
    ///   A load's staged rows then go straight to their shards, and its upsert
    ///   (``StagingSQL/citusUpsert``) runs on every shard at once instead of pulling the rows
    ///   through the coordinator: 20k changed rows on a coordinator and two workers, 0.45 s
    ///   staged and upserted against 0.79 s from a temporary table (psql).
    /// - `scores` not distributed: `greyoak_stage` a plain table again, for two-phase loads
    ///   (Citus refuses `PREPARE TRANSACTION` after a distributed write).
    ///
    /// `db upgrade` and `db downgrade` call it after their migrations, and every load before
    /// it writes: one query where nothing is to change.
    ///
    /// - Returns: Whether a load may stage in `greyoak_stage` on Citus: false where `scores`
    ///   is not distributed, or where this role may not distribute `greyoak_stage` (its loads
    ///   stage in a temporary table on the coordinator instead, which is slower).
    /// - Throws: ``GreyoakError`` when `greyoak_stage` is distributed, `scores` is not, and
    ///   this role may not undo that: a two-phase load could not prepare.
    @discardableResult
    static func followScores(_ connection: Connection, logger: Logger) throws -> Bool {
        guard try connection.execute("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL")[0, 0] == "t" else { return false }
        func placement() throws -> (scores: String?, stage: String?, exists: Bool) {
            let row = try connection.execute("""
                SELECT (SELECT colocationid::text FROM pg_catalog.pg_dist_partition
                        WHERE logicalrelid = to_regclass('scores') AND partmethod = 'h'),
                       (SELECT colocationid::text FROM pg_catalog.pg_dist_partition
                        WHERE logicalrelid = to_regclass('greyoak_stage')),
                       to_regclass('greyoak_stage') IS NOT NULL
                """)
            return (row[0, 0], row[0, 1], row[0, 2] == "t")
        }
        let before = try placement()
        guard before.exists else { return false }
        if before.scores == before.stage { return before.scores != nil }
        do {
            if before.stage != nil { try connection.execute("SELECT undistribute_table('greyoak_stage')") }
            if before.scores != nil {
                try connection.execute("SELECT create_distributed_table('greyoak_stage', 'ticker', colocate_with => 'scores')")
                logger.info("greyoak_stage is now distributed by ticker beside scores: loads stage in its shards")
            }
            return before.scores != nil
        } catch {
            // Another run may have done it meanwhile.
            let after = try placement()
            if after.scores == after.stage { return after.scores != nil }
            if after.scores != nil {
                logger.info("""
                    greyoak_stage is not distributed beside scores, and this role may not make it so (\(error.message)): \
                    staging on the coordinator; `greyoak db upgrade head` as its owner distributes it
                    """)
                return false
            }
            throw GreyoakError(.databaseError, """
                greyoak_stage is a distributed table but scores is not, and this role may not make it a plain table again \
                (\(error.message)): a two-phase load cannot stage there
                """, hint: "run `greyoak db upgrade head` as the owner of greyoak_stage, or `SELECT undistribute_table('greyoak_stage')`")
        }
    }
}
