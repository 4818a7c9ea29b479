import GreyoakPostgres
/// Alembic's `alembic_version` table: one row per current head.
///
/// Created exactly as Alembic creates it, never dropped (going to base deletes the row),
/// and never created by read-only commands such as `current`.
enum VersionTable {
    static let createSQL = """
        CREATE TABLE alembic_version (
            version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        )
        """

    /// Whether the table exists on the search path, as Alembic looks it up.
    static func exists(_ connection: Connection) throws -> Bool {
        try connection.execute("SELECT to_regclass('alembic_version') IS NOT NULL")[0, 0] == "t"
    }

    /// The current heads; empty at base or when the table does not exist.
    static func heads(_ connection: Connection) throws -> [String] {
        guard try exists(connection) else { return [] }
        return try connection.execute("SELECT version_num FROM alembic_version ORDER BY version_num").column
    }

    static func create(_ connection: Connection) throws {
        if try !exists(connection) { try connection.execute(createSQL) }
    }

    /// Applies one change, checking that it touched exactly one row as Alembic does.
    static func apply(_ change: VersionChange, _ connection: Connection) throws {
        let result = try connection.execute(change.sql)
        guard result.affectedRows == 1 else {
            throw GreyoakError(.failure, "alembic_version changed under us: \"\(change.sql)\" touched \(result.affectedRows) rows, not 1",
                               hint: "another tool changed the version table during the run; check `greyoak db current`")
        }
    }
}
