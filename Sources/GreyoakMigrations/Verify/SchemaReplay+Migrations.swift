import Foundation
import GreyoakPostgres
import GreyoakSchema

extension SchemaReplay {
    /// The catalog the upgrade sections of `migrations` build, in order.
    ///
    /// `CONCURRENTLY` is dropped from the replayed SQL because a scratch schema's transaction
    /// cannot run it; the index it builds is the same.
    public func replaying(_ migrations: [Migration]) throws -> (SchemaCatalog, Place) {
        try catalog { connection in
            for migration in migrations {
                for statement in migration.upgrade {
                    do {
                        try connection.execute(statement.text.replacingOccurrences(of: " CONCURRENTLY", with: "", options: .caseInsensitive))
                    } catch {
                        throw GreyoakError(.failure, "cannot replay \(migration.path):\(statement.line) to compute the expected schema: \(error)")
                    }
                }
            }
        }
    }
}
