import Foundation
import GreyoakPostgres
import GreyoakMigrations
import Logging

/// `greyoak db check`: is the database reachable, at head, and not in the middle of a
/// migration or an interrupted load? For container health checks and probes, which run it
/// every few seconds.
///
/// One connection and one read-only transaction of three small catalog queries: nothing is
/// created, locked or recovered (a probe must never change what it watches, nor wait).
public struct HealthCheck {
    let graph: RevisionGraph
    let settings: ConnectionSettings
    let logger: Logger

    public init(graph: RevisionGraph, settings: ConnectionSettings, logger: Logger) {
        self.graph = graph
        self.settings = settings
        self.logger = logger
    }

    /// Checks once. Never throws: every failure is a ``HealthReport`` with its exit status.
    ///
    /// - Parameter timeoutSeconds: The bound on each query (`statement_timeout`), so that a
    ///   server that accepts connections but cannot answer fails the probe instead of hanging it.
    public func run(timeoutSeconds: Double) -> HealthReport {
        var report = HealthReport(heads: graph.heads)
        let connection: Connection
        do {
            connection = try Connection(settings.named("check"), logger: logger)
        } catch {
            return report.failed(.cannotConnect, GreyoakError.from(error).description)
        }
        defer { connection.close() }
        report.reachable = true
        do {
            try connection.transaction {
                // SET LOCAL, not a startup setting: it ends with the transaction (and a pooler passes it).
                try connection.execute("SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = '\(max(1, Int(timeoutSeconds * 1000)))ms'")
                try inspect(connection, into: &report)
            }
        } catch {
            return report.failed(GreyoakError.Code(for: error), GreyoakError.from(error).description)
        }
        return report
    }

    private func inspect(_ connection: Connection, into report: inout HealthReport) throws {
        // One statement for the locks and which bookkeeping tables exist: the tables decide
        // which of the next queries can run at all.
        let state = try connection.execute("""
            SELECT to_regclass('alembic_version') IS NOT NULL, to_regclass('greyoak_load') IS NOT NULL,
                   (SELECT string_agg(l.pid::text, ', ' ORDER BY l.pid) FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.objsubid = 1
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.classid = \(SchemaLock.key >> 32) AND l.objid = \(SchemaLock.key & 0xFFFF_FFFF)),
                   (SELECT count(*) FROM pg_prepared_xacts p WHERE p.database = current_database()
                      AND p.gid LIKE 'greyoak\\_load\\_%' AND NOT \(Self.journalLockHeld("substring(p.gid FROM '^greyoak_load_([0-9]+)_')::bigint")))
            """).rows[0]
        report.current = state[0] == "t"
            ? try connection.execute("SELECT version_num FROM alembic_version ORDER BY version_num").column.compactMap { $0 } : []
        var interrupted = Int(state[3] ?? "0") ?? 0
        if state[1] == "t" {
            interrupted += Int(try connection.execute("""
                SELECT count(*) FROM greyoak_load WHERE state = 'running' AND NOT \(Self.journalLockHeld("id"))
                """)[0, 0] ?? "0") ?? 0
        }
        report.interruptedLoads = interrupted

        if let pids = state[2] {
            report.migrationRunning = true
            report.fail(.migrationRunning, "a migration is running (the schema lock is held exclusively by pid \(pids))")
        } else if let unknown = report.current.first(where: { graph.migrations[$0] == nil }) {
            report.fail(.aheadOrUnknown, "the database is at \(unknown), which no file in \(graph.directory) defines")
        } else if Set(report.current) != Set(report.heads) {
            let current = report.current.isEmpty ? "<base> (no revision)" : report.current.joined(separator: ", ")
            report.fail(.behindHead, "the database is at \(current), not at head \(report.heads.joined(separator: ", "))")
        } else if interrupted > 0 {
            report.fail(.loadInterrupted, "\(interrupted) interrupted load(s) are not resolved yet; `greyoak db recover` (or the next load or upgrade) resolves them")
        }
    }

    /// Whether a live load holds the journal lock of the load whose id `idExpression` gives
    /// (see ``LoadJournal``): a load that holds it is running, not interrupted.
    private static func journalLockHeld(_ idExpression: String) -> String {
        """
        EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND l.classid = \(LoadJournal.lockClass)::oid AND l.objid = ((\(idExpression)) & 2147483647)::oid)
        """
    }
}
