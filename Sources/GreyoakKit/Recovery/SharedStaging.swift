/// `greyoak_stage` as a permanent, unlogged table, for two-phase loads: a prepared
/// transaction may not touch a temporary table, so their writers stage here instead of in a
/// temporary `greyoak_stage` (which, where it exists, hides this one on the search path).
///
/// It is empty between loads: a writer sees only its own uncommitted rows in it and deletes
/// them before it prepares. Unlogged, because staged rows need no crash safety (a crash
/// rolls the load back) and so cost no WAL; `db upgrade` makes it, so loads need no CREATE.
enum SharedStaging {
    static let table = "greyoak_stage"

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
}
