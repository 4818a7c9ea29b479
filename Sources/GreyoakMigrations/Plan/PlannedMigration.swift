import Foundation

/// What `greyoak db plan` found out about one pending migration. Its JSON shape (snake
/// case, key for key) is an interface: keys may be added, never renamed or removed.
public struct PlannedMigration: Sendable, Encodable {
    public var revision: String
    public var parents: [String]
    public var message: String
    public var transactional: Bool
    /// False for a file that runs outside a transaction: it is described from its SQL only.
    public var replayed: Bool
    public var statements: [PlannedStatement]
    /// The live size of every table a finding names.
    public var tables: [String: TableSize]
    public var roundTrip: RoundTrip

    enum CodingKeys: String, CodingKey {
        case revision, parents, message, transactional, replayed, statements, tables
        case roundTrip = "round_trip"
    }

    /// The report for a person: a header, one line per statement, the round trip.
    ///
    ///     upgrade 183eb85141bf -> 2b7e0c9d4a11, Add confidence column
    ///       line 9: AccessExclusiveLock on scores (1.0M rows, 310 MB), rewrites scores
    ///       round trip: ok
    public var text: String {
        var lines = ["upgrade \(parents.joined(separator: ", ")) -> \(revision), \(message)"
            + (replayed ? "" : " (runs outside a transaction: described from its SQL, not replayed)")]
        for statement in statements {
            var parts: [String] = []
            let locks = statement.locks.map { lock in
                "\(lock.mode.rawValue) on \(lock.relation)" + (tables[lock.relation].map { " (\($0.description))" } ?? "")
            }
            parts.append(locks.isEmpty ? "no lock on an existing table" : locks.joined(separator: ", "))
            if !statement.rewrites.isEmpty { parts.append("rewrites \(statement.rewrites.joined(separator: ", "))") }
            if !statement.builds.isEmpty { parts.append("builds \(statement.builds.joined(separator: ", "))") }
            if !statement.scans.isEmpty { parts.append("scans \(statement.scans.joined(separator: ", "))") }
            lines.append("  line \(statement.line): " + parts.joined(separator: ", "))
        }
        if !replayed {
            lines.append("  round trip: not replayed")
        } else if roundTrip.ok {
            lines.append("  round trip: ok")
        } else {
            lines.append("  round trip: \(roundTrip.problems.count) problem(s)")
            lines += roundTrip.problems.map { "    \($0)" }
        }
        lines += roundTrip.dataLoss.map { "  data loss: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// Whether a finding of `kind` is present, for `--fail-on`.
    public func has(_ kind: PlanFinding) -> Bool {
        switch kind {
        case .rewrite: statements.contains { !$0.rewrites.isEmpty }
        case .accessExclusive: statements.contains { $0.locks.contains { $0.mode == .accessExclusive } }
        case .roundTrip: !roundTrip.ok
        case .dataLoss: !roundTrip.dataLoss.isEmpty
        }
    }
}

public struct PlannedStatement: Sendable, Encodable {
    /// The line of the file the statement starts on.
    public var line: Int
    public var sql: String
    /// The strongest lock it takes on each table that exists on the live database.
    public var locks: [PlannedLock]
    /// Live tables it rewrites (their relfilenode changes): every row is copied under the
    /// lock; and live indexes rewritten on their own (`REINDEX`).
    public var rewrites: [String]
    /// Indexes it builds or rebuilds.
    public var builds: [String]
    /// Live tables whose every row it reads under its lock (validation, UPDATE, DELETE).
    public var scans: [String]
}

public struct PlannedLock: Sendable, Encodable, Equatable {
    public var relation: String
    public var mode: TableLockMode
}

public struct TableSize: Sendable, Encodable, Equatable {
    /// `pg_class.reltuples`; nil when the table was never vacuumed or analysed.
    public var rowsEstimate: Int?
    /// `pg_total_relation_size`: table, TOAST and indexes.
    public var bytes: Int

    enum CodingKeys: String, CodingKey {
        case rowsEstimate = "rows_estimate", bytes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rowsEstimate, forKey: .rowsEstimate)  // null, not absent, when unknown
        try container.encode(bytes, forKey: .bytes)
    }

    /// `1.0M rows, 310 MB`.
    public var description: String {
        let rows = rowsEstimate.map { Self.rows($0) + " rows" } ?? "rows unknown"
        return "\(rows), \(Self.bytes(bytes))"
    }

    package static func rows(_ count: Int) -> String {
        switch count {
        case ..<1000: String(count)
        case ..<1_000_000: String(format: "%.1fk", Double(count) / 1000)
        case ..<1_000_000_000: String(format: "%.1fM", Double(count) / 1_000_000)
        default: String(format: "%.1fG", Double(count) / 1_000_000_000)
        }
    }

    /// As `pg_size_pretty(bigint)` prints it, digit for digit: bytes below 10 kB, then the
    /// unit that keeps the number below 20,480 before halving, rounded half up.
    static func bytes(_ count: Int) -> String {
        let limit = 10 * 1024, limit2 = limit * 2 - 1
        guard abs(count) >= limit else { return "\(count) bytes" }
        var size = count >> 9  // one extra bit for the rounding
        for unit in ["kB", "MB", "GB"] {
            if abs(size) < limit2 { return "\((size + (size < 0 ? -1 : 1)) / 2) \(unit)" }
            size >>= 10
        }
        return "\((size + (size < 0 ? -1 : 1)) / 2) TB"
    }
}

public struct RoundTrip: Sendable, Encodable {
    /// True when upgrade then downgrade gives the catalog from before, and downgrade then
    /// upgrade the one from after.
    public var ok: Bool { problems.isEmpty }
    public var problems: [String]
    /// What the upgrade destroys that its downgrade cannot bring back (dropped columns and
    /// tables of the live database).
    public var dataLoss: [String]

    enum CodingKeys: String, CodingKey {
        case ok, problems
        case dataLoss = "data_loss"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(problems, forKey: .problems)
        try container.encode(dataLoss, forKey: .dataLoss)
    }
}

/// What `db plan --fail-on` can refuse.
public enum PlanFinding: String, Sendable, CaseIterable {
    case rewrite
    case accessExclusive = "access-exclusive"
    case roundTrip = "round-trip"
    case dataLoss = "data-loss"
}
