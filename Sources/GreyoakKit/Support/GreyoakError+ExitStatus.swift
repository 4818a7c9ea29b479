extension GreyoakError.Code {
    /// The kind of failure any error greyoak throws is, which decides the process exit
    /// status (``GreyoakError/Code/exitStatus``): the one place that maps errors onto statuses.
    public init(for error: any Error) {
        switch error {
        case let error as GreyoakError: self = error.code
        case let error as IngestFailure: self = error.code
        case let error as PostgresError where error.code == .connectionFailed: self = .cannotConnect
        case is PostgresError: self = .databaseError
        // MigrationFailure and MigrationFileError say what state they leave; the status is 1.
        default: self = .failure
        }
    }
}
