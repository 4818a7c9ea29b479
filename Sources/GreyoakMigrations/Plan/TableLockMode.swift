/// A table lock mode, named as `pg_locks.mode` names it, weakest first.
public enum TableLockMode: String, Sendable, Codable, Comparable, CaseIterable {
    case accessShare = "AccessShareLock"
    case rowShare = "RowShareLock"
    case rowExclusive = "RowExclusiveLock"
    case shareUpdateExclusive = "ShareUpdateExclusiveLock"
    case share = "ShareLock"
    case shareRowExclusive = "ShareRowExclusiveLock"
    case exclusive = "ExclusiveLock"
    case accessExclusive = "AccessExclusiveLock"

    public static func < (lhs: TableLockMode, rhs: TableLockMode) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// What the mode stops, in a person's words.
    public var blocks: String {
        switch self {
        case .accessShare, .rowShare, .rowExclusive: "blocks only DDL"
        case .shareUpdateExclusive: "blocks DDL and VACUUM, not reads or writes"
        case .share, .shareRowExclusive, .exclusive: "blocks writes"
        case .accessExclusive: "blocks reads and writes"
        }
    }

    /// `LOCK TABLE ... IN <words> MODE`: `ACCESS EXCLUSIVE` → ``accessExclusive``.
    init?(lockStatementWords words: [String]) {
        let name = words.map { $0.capitalized }.joined() + "Lock"
        guard let mode = TableLockMode(rawValue: name) else { return nil }
        self = mode
    }
}
