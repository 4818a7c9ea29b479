/// What one pass of the ``PipelineStages`` over the input found.
///
/// Not `Sendable` (it holds the validator's key sets): the validator stage hands it to the
/// coordinator as a `sending` value.
struct StreamOutcome {
    var rowsRead = 0
    var rejected = 0
    /// Good rows the validator found equal to `scores`' (``LoadMode/compare``): not sent.
    var unchanged = 0
    /// The first errors, at most `--max-report` of them (and never more than
    /// ``maxErrorsKept``): the rest are only counted.
    var errors: [RowError] = []
    static let maxErrorsKept = 1_000
    var errorCount = 0
    /// What stopped the pass, if anything did: an unreadable file, a failed COPY, ...
    var fatal: PassFailure?
    /// A load's candidates for the database's duplicate check.
    var duplicates: DuplicateFilter?
    /// A dry run's first pass: the keys that may repeat.
    var screen: KeyScreen?
    var mode = LoadMode.staging
    /// The new partitions the pass's rows need, kept in the pass's ``AttachSpool``.
    var newPartitions: [AttachSpool.Partition] = []
    /// With `--on-duplicate last`: the keys of those rows that may repeat.
    var attachDuplicates: DuplicateFilter?
}
