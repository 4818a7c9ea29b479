import Dispatch
import GreyoakPostgres

/// What the load needs of one writer connection, so that ``PipelineStages``, ``WriterPool``,
/// ``LoadCommit`` and the ``LoadStateMachine``'s driver can be tested with fakes, without a
/// server. ``StagingWriter`` is the one over a ``Connection``.
///
/// A writer runs its statements on its own queue, one at a time; every method may be called
/// from any thread.
protocol LoadWriter: AnyObject, Sendable {
    var index: Int { get }
    /// The writer's server process (for the lock watcher and to wait for its end); nil
    /// before it connected.
    var backendPID: Int32? { get }
    /// Rows the COPY took (into the staging table or straight into `scores`), less the
    /// repeats `--on-duplicate last` removed.
    var stagedRows: Int { get }
    /// Waits for the connection started at creation; its error if it failed.
    func waitForConnection() -> (any Error)?
    /// How this load commits and stages; given once the coordinator knows, before ``start``.
    func configure(_ configuration: WriterConfiguration)
    /// Streams `input` by binary COPY, once `mode` is set, until `input` is closed; in the
    /// background (`group` waits for it). `onFailure` is called there if it fails.
    func start(mode: LoadModeGate, input: BoundedQueue<CopyChunk>, group: DispatchGroup,
               onFailure: @escaping @Sendable (PassFailure) -> Void)
    /// Waits for the COPY to end; what stopped it, if anything did.
    func waitForLoad() -> PassFailure?
    /// Rolls back an abandoned pass and begins again on the same connection.
    func reopen() throws
    func duplicates(policy: DuplicatePolicy, candidates: [(String, Int64, Mode)]?, limit: Int) throws -> (groups: [DuplicateGroup], total: Int)
    func upsert() throws -> (inserted: Int, updated: Int)
    /// Runs `decision` (the journal's and ledger's statements), then COMMIT.
    func commit(with decision: [(String, [String?])]) throws
    func prepareTransaction(_ gid: String) throws
    /// Rolls back (unless prepared) and closes.
    func rollback()
    func close()
}

/// How a writer stages and commits: known only once the coordinator has chosen the
/// ``CommitMethod``, after the writers connected.
struct WriterConfiguration: Sendable {
    /// Stage in the shared table and end by preparing (a two-phase load).
    var twoPhase = false
    /// How `scores` is placed, which picks the upsert's statements.
    var distribution = TableDistribution.local
    /// On Citus: stage in the shards of the permanent `greyoak_stage`, beside `scores`' (see
    /// ``SharedStaging/followScores(_:logger:)``), not in a temporary table on the coordinator.
    var stagesInShards = false
    /// Bytes of a direct COPY's rows held to put them in key order before they are sent (see
    /// ``KeyOrderRuns``); 0 sends them as they come.
    var sortBudget = 0
    /// The order of a direct COPY's rows within a run.
    var sortOrder = KeyOrderRuns.Order.key
}

/// What stopped a pass over the input, told apart where it happened, so that the
/// ``LoadStateMachine`` picks the fallback from a value rather than by casting an error.
enum PassFailure: Sendable {
    /// The direct COPY met a key that exists (in `scores`, or earlier in the input).
    case keyExists(PostgresError)
    /// The comparison with `scores` gave up (``ExistingRows/Abandoned``).
    case comparisonAbandoned(ExistingRows.Abandoned)
    /// The input cannot be read past a row.
    case unreadable(RowError)
    /// Anything else: a failed COPY, an unreadable file, a lost connection.
    case failed(any Error)

    var error: any Error {
        switch self {
        case let .keyExists(error): error
        case let .comparisonAbandoned(error): error
        case let .unreadable(error): error
        case let .failed(error): error
        }
    }

    /// A stage's error: what the parser and validator throw for the input.
    init(_ error: any Error) {
        switch error {
        case let row as RowError: self = .unreadable(row)
        case let abandoned as ExistingRows.Abandoned: self = .comparisonAbandoned(abandoned)
        default: self = .failed(error)
        }
    }
}
