import Logging

/// The PostgreSQL advisory lock that serialises greyoak loads with each other ("greyoakL").
///
/// A load holds it, on its coordinator connection, from the moment it decides to copy
/// straight into `scores` (no other load may write those dates meanwhile), or else for its
/// upsert and commit: the classify-then-write statement joins `scores` before it writes, and
/// two loads must not race between the two. Unlike ``SchemaLock`` it is taken by a blocking
/// `pg_advisory_lock`: the wait ends when the other load commits or rolls back.
package enum LoadLock {
    package static let key: Int64 = 0x67_7265_796F_614C

    /// Takes the lock, saying who holds it when it has to wait.
    package static func acquire(_ connection: Connection, logger: Logger) throws {
        if try connection.execute("SELECT pg_try_advisory_lock(\(key))")[0, 0] == "t" { return }
        let holders = try SchemaLock.holders(connection, key: key)
        logger.info("waiting for another greyoak load to finish (load lock held by \(holders))")
        try connection.execute("SELECT pg_advisory_lock(\(key))")
    }

    package static func release(_ connection: Connection) {
        _ = try? connection.execute("SELECT pg_advisory_unlock(\(key))")
    }
}
