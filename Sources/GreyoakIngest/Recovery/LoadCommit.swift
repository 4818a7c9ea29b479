import Foundation
import Logging
import Synchronization
import GreyoakPostgres

/// The commit point of one load, for every writer at once (see ``CommitMethod``).
///
/// Before the commit point a failure rolls everything back, prepared transactions included;
/// after it, the load is committed whatever happens to the connections, and what is left to
/// finish is finished by ``LoadRecovery``, now or at the next run. The decision (the
/// journal's `committed` and the ledger rows) commits in the same transaction as the data
/// (one-transaction loads) or before any prepared data is committed (two-phase loads).
struct LoadCommit {
    /// A failure whose outcome is already written in the journal: the pipeline must not mark
    /// the load rolled back.
    struct OutcomeRecorded: Error {
        let error: any Error
    }

    let coordinator: Connection
    /// The load's locks (schema, load, journal): confirmed before the commit point.
    let locks: LockSession
    let method: CommitMethod
    let logger: Logger
    let settings: ConnectionSettings
    let load: Int64
    let ledgerEntry: IngestLedgerEntry?

    /// How long to wait for a failed session's server process to end before reading what it
    /// left: a COMMIT or PREPARE the server got just before the cut ends before it does.
    static let sessionEndWait = 15.0

    /// - Parameter attach: The statement that attaches the load's new partitions
    ///   (``AttachSQL/attach(_:policy:)``), if it made any.
    ///
    /// The attach is part of the decision: it runs in the transaction that is the load's
    /// commit point, the single writer's (one transaction) or the coordinator's decision
    /// (two-phase), before the journal's `committed`. So the new partitions are published
    /// exactly when the load is decided: if that transaction commits, recovery commits the
    /// prepared writers' rows too; if it does not, the partitions stay unattached standalone
    /// tables that the failing load, recovery or the next load drops (``AttachLeftovers``).
    /// No prepared transaction is needed for them, however many writers loaded them: they
    /// were committed invisible, and the attach alone makes them part of `scores`.
    func commit(_ writers: [any LoadWriter], summary: IngestSummary, attach: String? = nil) throws {
        // Without its locks the load must not commit: another load or a migration may be
        // running. The lock session lives as long as this process, unless the server ends it.
        try locks.confirm()
        let decision = (attach.map { [($0, [String?]())] } ?? []) + Self.decision(load: load, summary: summary, ledgerEntry: ledgerEntry)
        switch method {
        case .oneTransaction:
            try commitOne(writers[0], decision: decision)
        case .twoPhase:
            try commitTwoPhase(writers, decision: decision)
        }
    }

    /// The statements that decide the load, in the transaction of its commit point: the
    /// journal's `committed`, then (`--each-file`) the file's ledger row.
    static func decision(load: Int64, summary: IngestSummary, ledgerEntry: IngestLedgerEntry?) -> [(String, [String?])] {
        [LoadJournal.commitSQL(load, summary: summary)] + (ledgerEntry.map { [IngestLedger.recordSQL($0, summary: summary)] } ?? [])
    }

    private func commitOne(_ writer: any LoadWriter, decision: [(String, [String?])]) throws {
        do {
            try writer.commit(with: decision)
        } catch {
            // The COMMIT may have reached the server and the answer been lost: once the
            // writer's session has ended, the journal says which.
            writer.close()
            if try committedAfterSessionEnded(writer.backendPID) {
                logger.warning("the writer's connection failed at COMMIT (\(error)), but the load committed")
                return
            }
            throw error
        }
    }

    private func commitTwoPhase(_ writers: [any LoadWriter], decision: [(String, [String?])]) throws {
        // Phase one: every writer prepares, in parallel (each PREPARE waits for a WAL flush).
        let failures = Mutex<[Int: any Error]>([:])
        let load = self.load
        let database = try coordinator.execute("SELECT oid FROM pg_database WHERE datname = current_database()")[0, 0] ?? "0"
        DispatchQueue.concurrentPerform(iterations: writers.count) { index in
            do {
                try writers[index].prepareTransaction(CommitMethod.gid(load: load, database: database, writer: index))
            } catch {
                failures.withLock { $0[index] = error }
            }
        }
        let failed = failures.withLock { $0 }
        if let (index, error) = failed.min(by: { $0.key < $1.key }) {
            for (failed, _) in failed { writers[failed].close() }
            writers.forEach { $0.rollback() }
            abortPrepared(after: failed.keys.map { writers[$0].backendPID })
            throw GreyoakError(.databaseError, "writer \(index + 1) of \(writers.count) failed to prepare its transaction: \(error)",
                               hint: "nothing was loaded; run the same command again")
        }
        // The commit point: the decision commits on the coordinator.
        do {
            try coordinator.transaction {
                for (sql, parameters) in decision { try coordinator.execute(sql, parameters) }
            }
        } catch let error as PostgresError where error.sqlState != nil && coordinator.isAlive {
            // The server refused the decision and the session goes on: it did not commit.
            abortPrepared(after: [])
            throw error
        } catch {
            // The connection failed: the decision may have committed. Recovery, from a new
            // session once this one is gone, finishes the load whichever way it went.
            try finishElsewhere(error, decided: false)
            return
        }
        // Phase two: nothing can undo the load now; a failure leaves work for recovery.
        do {
            for index in writers.indices {
                try coordinator.execute("COMMIT PREPARED '\(CommitMethod.gid(load: load, database: database, writer: index))'")
            }
        } catch {
            try finishElsewhere(error, decided: true)
        }
    }

    /// Rolls back whatever this load prepared, once the failed writers' sessions are gone (a
    /// PREPARE the server got before the cut ends before the session does).
    private func abortPrepared(after pids: [Int32?]) {
        for pid in pids { waitForSessionEnd(pid) }
        guard let gids = try? LoadRecovery.preparedGIDs(coordinator)[load] else { return }
        for gid in gids { _ = try? coordinator.execute("ROLLBACK PREPARED '\(gid)'") }
    }

    /// Finishes an interrupted commit from a new session, with ``LoadRecovery``, once the
    /// old session is gone (its journal lock frees then). Returns when the load ended
    /// committed; throws ``OutcomeRecorded`` when it ended rolled back or could not be finished.
    private func finishElsewhere(_ error: any Error, decided: Bool) throws {
        coordinator.close()
        // Recovery takes the load's journal lock, which this load's lock session holds.
        locks.close()
        var retry = RetryDeadline(.constant(0.25), seconds: Self.sessionEndWait)
        var last: any Error = error
        repeat {
            do {
                let connection = try Connection(settings, logger: logger)
                defer { connection.close() }
                try LoadRecovery(connection: connection, logger: logger).run()
                let state = try connection.execute("SELECT state FROM greyoak_load WHERE id = $1::bigint", [String(load)])[0, 0]
                let pending = try LoadRecovery.preparedGIDs(connection)[load] != nil
                if state == "committed" && !pending {
                    logger.warning("a connection failed during the commit of load \(load) (\(error)); the load is committed")
                    return
                }
                if state == "interrupted" {
                    throw OutcomeRecorded(error: GreyoakError(.databaseError, "the commit failed before its commit point: \(error)",
                                                              hint: "nothing was loaded; run the same command again"))
                }
            } catch let outcome as OutcomeRecorded {
                throw outcome
            } catch {
                last = error
            }
        } while retry.pause()
        throw OutcomeRecorded(error: GreyoakError(
            .databaseError, "load \(load) failed at its commit point and could not be finished (\(last))",
            hint: decided
                ? "it is committed; run `greyoak db recover` to commit its remaining prepared transactions"
                : "run `greyoak db recover`: it commits the load if its decision was recorded and rolls it back otherwise"))
    }

    /// Whether the load is committed, after the session `pid` has ended (bounded wait).
    private func committedAfterSessionEnded(_ pid: Int32?) throws -> Bool {
        waitForSessionEnd(pid)
        return try coordinator.execute("SELECT state = 'committed' FROM greyoak_load WHERE id = $1::bigint", [String(load)])[0, 0] == "t"
    }

    private func waitForSessionEnd(_ pid: Int32?) {
        guard let pid else { return }
        var retry = RetryDeadline(.constant(0.05), seconds: Self.sessionEndWait)
        repeat {
            guard (try? coordinator.execute("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = \(pid))")[0, 0]) == "t" else { return }
        } while retry.pause()
    }
}

