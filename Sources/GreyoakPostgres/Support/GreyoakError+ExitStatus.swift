/// An error that knows which kind of failure it is, and so which exit status it ends the
/// process with. Every part's own failure type conforms (`IngestFailure`, `MigrationFailure`),
/// so this, the lowest part, needs to know none of them.
public protocol CodedFailure: Error {
    var code: GreyoakError.Code { get }
}

extension GreyoakError: CodedFailure {}

extension GreyoakError.Code {
    /// The kind of failure any error greyoak throws is, which decides the process exit
    /// status (``GreyoakError/Code/exitStatus``): the one place that maps errors onto statuses.
    public init(for error: any Error) {
        switch error {
        // A migration says what state it leaves; the status is 1, or 6 when a lock never came.
        case let error as any CodedFailure: self = error.code
        case let error as PostgresError where error.code == .connectionFailed: self = .cannotConnect
        case is PostgresError: self = .databaseError
        // MigrationFileError names the file and line; the status is 1.
        default: self = .failure
        }
    }
}
