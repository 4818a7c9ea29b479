import Testing
import GreyoakPostgres
import GreyoakIngest

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

    @Test("retried: a server away or restarting, an administrator's termination; not: a server's refusal",
          arguments: [
              (PostgresError(code: .connectionFailed, message: "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused"), true),
              (PostgresError(code: .connectionFailed, message: "FATAL:  the database system is starting up"), true),
              (PostgresError(code: .statementFailed, message: "terminating connection due to administrator command", sqlState: "57P01"), true),
              (PostgresError(code: .connectionClosed, message: "the connection to the database is closed"), true),
              (PostgresError(code: .connectionFailed, message: "FATAL:  password authentication failed for user \"x\""), false),
              (PostgresError(code: .statementFailed, message: "permission denied for table scores", sqlState: "42501"), false),
              (PostgresError(code: .statementFailed, message: "duplicate key value", sqlState: "23505"), false),
          ])
    func transient(_ error: PostgresError, _ retried: Bool) {
        #expect(TransientFailure.matches(error) == retried)
    }
}
