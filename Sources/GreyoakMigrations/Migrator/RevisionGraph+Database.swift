import GreyoakPostgres

extension RevisionGraph {
    /// The database's current heads, checked against the migration files.
    ///
    /// - Throws: ``GreyoakError/Code/aheadOrUnknown`` for a revision no file defines.
    public func currentHeads(of connection: Connection) throws -> [String] {
        let heads = try VersionTable.heads(connection)
        if let unknown = heads.first(where: { migrations[$0] == nil }) {
            throw GreyoakError(.aheadOrUnknown, "Can't locate revision identified by '\(unknown)'",
                               hint: "the database was migrated by newer code or other migration files than those in \(directory)")
        }
        return heads
    }
}
