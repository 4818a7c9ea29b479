import Foundation

/// Where a run's rows go.
public enum LoadMode: String, Sendable {
    /// Into the staging table, then classified and upserted: any input.
    case staging
    /// Straight into `scores` by binary COPY, which PostgreSQL inserts in bulk: for runs
    /// whose first rows' dates `scores` does not hold (a backfill of new days, the nightly
    /// load). Should a row exist after all, the COPY fails on the primary key and the run
    /// starts again, comparing.
    case direct
    /// Through the staging table, but only the rows that differ from `scores`: the validator
    /// compares each row with the row of its key that `scores` holds (``ExistingRows``) and
    /// sends neither unchanged rows nor their work to the server; what it does send is new
    /// or changed, and goes through the staging path's upsert. For runs whose first rows'
    /// dates `scores` holds (a retry, a re-ingest). Should the comparison give up (a key of
    /// `scores` repeated in the input, or dates out of order past its memory bound) the run
    /// starts again through the staging table.
    case compare
}
