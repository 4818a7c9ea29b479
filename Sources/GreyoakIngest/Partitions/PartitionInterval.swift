import Foundation

/// How wide the partitions a load makes are: a calendar month or a calendar year of
/// `scoring_date`. Dates are PostgreSQL's binary timestamps (microseconds since 2000-01-01),
/// as the validator hands them on.
public enum PartitionInterval: String, Sendable, CaseIterable {
    case month
    case year

    private static let microsPerDay: Int64 = 86_400_000_000
    /// Days from 1970-01-01 to 2000-01-01.
    private static let epochDays = 10_957

    /// The first instant of the interval holding `micros`.
    func start(of micros: Int64) -> Int64 {
        var days = micros / Self.microsPerDay
        if micros % Self.microsPerDay < 0 { days -= 1 }
        let (year, month, _) = CivilTime.civilFromDays(Int(days) + Self.epochDays)
        return Self.micros(year: year, month: self == .month ? month : 1)
    }

    /// The first instant of the interval after the one that starts at `start`.
    func end(after start: Int64) -> Int64 {
        let (year, month, _) = CivilTime.civilFromDays(Int(start / Self.microsPerDay) + Self.epochDays)
        switch self {
        case .month: return month == 12 ? Self.micros(year: year + 1, month: 1) : Self.micros(year: year, month: month + 1)
        case .year: return Self.micros(year: year + 1, month: 1)
        }
    }

    /// The suffix of the partition that starts at `start`: `p2025_01` (months), `p2025` (years),
    /// as partition-shape.md and pg_partman's `datetime_string` (`YYYY_MM`, `YYYY`) name them.
    func suffix(of start: Int64) -> String {
        let (year, month, _) = CivilTime.civilFromDays(Int(start / Self.microsPerDay) + Self.epochDays)
        let yyyy = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return self == .month ? "p\(yyyy)_\(month < 10 ? "0" : "")\(month)" : "p\(yyyy)"
    }

    /// The interval a partition of these bounds is: a calendar month or year; nil otherwise.
    static func of(low: Int64, high: Int64) -> PartitionInterval? {
        allCases.first { $0.start(of: low) == low && $0.end(after: low) == high }
    }

    private static func micros(year: Int, month: Int) -> Int64 {
        Int64(CivilTime.daysFromCivil(year, month, 1) - epochDays) * microsPerDay
    }
}
