import Foundation
import GreyoakPostgres

/// A schema that lives only inside a transaction that is always rolled back: the last resort
/// of ``SchemaReplay`` (for a role that may not create databases, given no `--dev-url`), where
/// the schema the migrations (or a SQL file) describe is built and read without changing the
/// database. A file that creates schemas or extensions, or names `public.t`, cannot load here.
package enum ScratchSchema {
    /// Creates a scratch schema, puts it first on the search path, runs `fill`, reads the
    /// catalog, and rolls everything back.
    ///
    /// The live schema stays on the path behind it, so that SQL finds what extensions
    /// installed there (`citext`, `gin_trgm_ops`); everything the SQL creates goes into the
    /// scratch schema, and a name found there comes out unqualified as it does in the live one.
    /// SQL that names a live object the scratch schema lacks (`DROP TABLE IF EXISTS old`) locks
    /// it until the rollback (milliseconds later); its wait for such a lock is bounded to 2 s,
    /// so live readers never queue long behind a replay that waits.
    package static func catalog(_ connection: Connection, fill: () throws -> Void) throws -> SchemaCatalog {
        var scratch = "greyoak_verify_\(getpid())"
        let live = try connection.execute("SELECT current_schema()")[0, 0]
        let behind = live.map { [SchemaCatalog().quote($0)] } ?? []
        try connection.execute("BEGIN")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.execute("SET LOCAL lock_timeout = '2s'")
        do {
            try connection.execute("SAVEPOINT scratch")
            try connection.execute("CREATE SCHEMA \(scratch)")
            try connection.execute("SET LOCAL search_path TO \(([scratch] + behind).joined(separator: ", "))")
        } catch {
            guard error.sqlState == SQLState.insufficientPrivilege else { throw error }
            // A role without CREATE on the database (a loader) replays into its temporary
            // schema instead, which needs only TEMPORARY; still rolled back.
            try connection.execute("ROLLBACK TO SAVEPOINT scratch")
            try connection.execute("SET LOCAL search_path TO \((["pg_temp"] + behind).joined(separator: ", "))")
            scratch = ""
        }
        try fill()
        if scratch.isEmpty {
            scratch = try connection.execute("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()")[0, 0] ?? "pg_temp"
        }
        return try SchemaCatalog.read(connection, schema: scratch)
    }

    /// The live schema's catalog, read with it alone on the search path.
    package static func live(_ connection: Connection, schema: String) throws -> SchemaCatalog {
        try connection.transaction {
            try connection.execute("SET LOCAL search_path TO \(SchemaCatalog().quote(schema))")
            return try SchemaCatalog.read(connection, schema: schema)
        }
    }
}
