import Logging

/// The PostgreSQL advisory lock that serialises greyoak loads with each other ("greyoakL").
///
/// A load holds it, in its ``LockSession``, from the moment it decides to copy straight
/// into `scores` (no other load may write those dates meanwhile), or else for its upsert and
/// commit: the classify-then-write statement joins `scores` before it writes, and two loads
/// must not race between the two. Unlike ``SchemaLock`` it is taken by a blocking
/// `pg_advisory_[xact_]lock`: the wait ends when the other load ends, or after `lock_timeout`.
package enum LoadLock {
    package static let key: Int64 = 0x67_7265_796F_614C

    /// Takes the lock, saying who holds it when it has to wait; returns the savepoint that
    /// ``release(_:_:)`` takes.
    package static func acquire(_ session: LockSession, logger: Logger) throws -> Int {
        let savepoint = try session.savepoint()
        do {
            if try session.tryTake("\(key)") { return savepoint }
            let holders = try SchemaLock.holders(session.connection, key: key)
            logger.info("waiting for another greyoak load to finish (load lock held by \(holders))")
            try session.take("\(key)")
            return savepoint
        } catch {
            session.release(savepoint)
            throw error
        }
    }

    package static func release(_ session: LockSession, _ savepoint: Int) {
        session.release(savepoint)
    }
}
