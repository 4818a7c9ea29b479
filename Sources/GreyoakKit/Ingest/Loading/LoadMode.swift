import Foundation

/// Where a run's rows go.
public enum LoadMode: String, Sendable {
    /// Into the staging table, then classified and upserted: any input.
    case staging
    /// Straight into `scores` by binary COPY, which PostgreSQL inserts in bulk: for runs
    /// whose first rows' dates `scores` does not hold (a backfill of new days, the nightly
    /// load). Should a row exist after all, the COPY fails on the primary key and the run
    /// starts again through the staging table.
    case direct
}
