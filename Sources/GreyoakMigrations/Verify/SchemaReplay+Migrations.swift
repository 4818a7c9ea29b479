import Foundation
import GreyoakPostgres
import GreyoakSchema

extension SchemaReplay {
    /// The catalog the upgrade sections of `migrations` build, in order.
    ///
    /// `CONCURRENTLY` is dropped from the replayed SQL because a scratch schema's transaction
    /// cannot run it; the index it builds is the same.
    public func replaying(_ migrations: [Migration]) throws -> (SchemaCatalog, Place) {
        let (catalogs, place) = try replaying(migrations, schemas: nil)
        return (catalogs[0], place)
    }

    /// `statement` without the `CONCURRENTLY` of `CREATE [UNIQUE] INDEX`, `DROP INDEX`,
    /// `REINDEX` or `REFRESH MATERIALIZED VIEW` (a comment or string that says it is left).
    static func withoutConcurrently(_ statement: String) -> String {
        let words = statement.uppercased().split(whereSeparator: \.isWhitespace).prefix(5).map(String.init)
        let head = words.prefix(3).joined(separator: " ")
        guard ["CREATE INDEX", "CREATE UNIQUE INDEX", "DROP INDEX", "REINDEX", "REFRESH MATERIALIZED VIEW"].contains(where: { head.hasPrefix($0) }),
              words.contains("CONCURRENTLY"), let range = statement.range(of: "CONCURRENTLY", options: .caseInsensitive) else { return statement }
        return statement.replacingCharacters(in: range, with: "")
    }

    /// The catalogs of `schemas` (nil: the current one) that the upgrade sections of
    /// `migrations` build.
    public func replaying(_ migrations: [Migration], schemas: [String]?) throws -> ([SchemaCatalog], Place) {
        try catalogs(of: schemas) { connection in
            for migration in migrations {
                // In a database, a transactional migration runs in a transaction as it does
                // for real, so that its `SET LOCAL` (search_path, check_function_bodies) holds
                // (a scratch schema's replay is one transaction already).
                let own = migration.transactional && connection.isIdle
                if own { try connection.execute("BEGIN") }
                for statement in migration.upgrade {
                    do {
                        try connection.execute(Self.withoutConcurrently(statement.text))
                    } catch {
                        if own { _ = try? connection.execute("ROLLBACK") }
                        throw GreyoakError(.failure, "cannot replay \(migration.path):\(statement.line) to compute the expected schema: \(error)")
                    }
                }
                if own { try connection.execute("COMMIT") }
            }
        }
    }
}
