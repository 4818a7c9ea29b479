import Testing
import GreyoakPostgres
@testable import GreyoakIngest

/// The names recovery reads back: prepared transactions' ids, and which failures are retried.
@Suite("Recovery: prepared transaction ids and transient failures")
struct RecoveryNamingTests {
    @Test("a gid names its load, database and writer, and reads back to its load")
    func gidRoundTrip() {
        let gid = CommitMethod.gid(load: 4711, database: "16384", writer: 1)
        #expect(gid == "greyoak_load_4711_db16384_w2")
        #expect(CommitMethod.load(ofGID: gid) == 4711)
    }

    @Test("ids that are not greyoak's name no load", arguments: ["citus_0_1234_5_6", "greyoak_load_", "greyoak_load_x_db1_w1", "other"])
    func foreignGID(_ gid: String) {
        #expect(CommitMethod.load(ofGID: gid) == nil)
    }

    /// `error` as libpq left it: the connection bad, the login refused or not.
    private static func lost(_ error: PostgresError, loginRefused: Bool = false) -> PostgresError {
        var error = error
        error.connectionBad = true
        error.loginRefused = loginRefused
        return error
    }

    @Test("retried: a server away or restarting, an administrator's termination, a lost connection; not: a server's refusal",
          arguments: [
              (lost(PostgresError(code: .connectionFailed, message: "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused")), true),
              (lost(PostgresError(code: .connectionFailed, message: "FATAL:  the database system is starting up")), true),
              (PostgresError(code: .statementFailed, message: "terminating connection due to administrator command", sqlState: "57P01"), true),
              (PostgresError(code: .statementFailed, message: "connection failure", sqlState: "08006"), true),
              (PostgresError(code: .connectionClosed, message: "the connection to the database is closed"), true),
              (lost(PostgresError(code: .statementFailed, message: "server closed the connection unexpectedly")), true),
              (lost(PostgresError(code: .connectionFailed, message: "FATAL:  password authentication failed for user \"x\""), loginRefused: true), false),
              (lost(PostgresError(code: .connectionFailed, message: "FATAL:  too many connections for role"), loginRefused: true), false),
              (PostgresError(code: .statementFailed, message: "permission denied for table scores", sqlState: "42501"), false),
              (PostgresError(code: .statementFailed, message: "duplicate key value", sqlState: "23505"), false),
              (PostgresError(code: .statementFailed, message: "canceling statement due to lock timeout", sqlState: "55P03"), false),
              // The text alone decides nothing.
              (PostgresError(code: .connectionFailed, message: "Connection refused"), false),
          ])
    func transient(_ error: PostgresError, _ retried: Bool) {
        #expect(TransientFailure.matches(error) == retried)
    }

    @Test("kinds come from SQLSTATE classes",
          arguments: [("40001", TransientFailure.Kind.conflict), ("40P01", .conflict), ("55P03", .lockTimeout),
                      ("53300", .noConnectionSlot), ("57P03", .serverUnavailable), ("08001", .serverUnavailable)])
    func kinds(_ state: String, _ kind: TransientFailure.Kind) {
        #expect(TransientFailure.kind(of: PostgresError(code: .statementFailed, message: "", sqlState: state)) == kind)
    }

    @Test("the loaded-dates probe falls back to staging only when the server refused its query in a live session")
    func probeFallback() {
        #expect(LoadedDatesProbe.usesStaging(after: PostgresError(code: .statementFailed, message: "canceling statement due to statement timeout", sqlState: "57014")))
        #expect(!LoadedDatesProbe.usesStaging(after: PostgresError(code: .statementFailed, message: "lock timeout", sqlState: "55P03")))
        #expect(!LoadedDatesProbe.usesStaging(after: Self.lost(PostgresError(code: .statementFailed, message: "server closed the connection unexpectedly"))))
        #expect(!LoadedDatesProbe.usesStaging(after: PostgresError(code: .statementFailed, message: "terminating connection", sqlState: "57P01")))
        #expect(!LoadedDatesProbe.usesStaging(after: GreyoakError(.databaseError, "not a PostgreSQL error")))
    }
}
