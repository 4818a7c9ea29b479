import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// greyoak killed, and one of its sessions ended by an administrator.
@Suite("Ingest faults: SIGKILL and pg_terminate_backend")
struct IngestKillTests {
    /// A greyoak child that the test can kill; reaped through a termination handler.
    final class Child: @unchecked Sendable {
        let process = Process()
        private let done = DispatchSemaphore(value: 0)

        init(_ arguments: [String], databaseURL: String) throws {
            let binary = try #require(CLI.binary, "cannot find the greyoak executable")
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments + ["--migrations", IngestRepo.migrations]
            var environment = ProcessInfo.processInfo.environment
            for key in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "GREYOAK_MIGRATIONS"] { environment[key] = nil }
            environment["DATABASE_URL"] = databaseURL
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.terminationHandler = { [done] _ in done.signal() }
            try process.run()
        }

        func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

        /// Waits (at most a minute, off the cooperative threads) and returns the exit status.
        func wait() async -> Int32 {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
                DispatchQueue.global().async { [self] in
                    if done.wait(timeout: .now() + 60) == .timedOut {
                        kill()
                        done.wait()
                    }
                    continuation.resume(returning: process.terminationStatus)
                }
            }
        }
    }

    @Test("SIGKILL at random points of a load: all or nothing, recovery, a rerun converges",
          arguments: [(1, false), (2, false), (1, true), (2, true)])
    func sigkill(writers: Int, partitioned: Bool) async throws {
        let scenario = try await FaultScenario.make(tickers: 1500, partitioned: partitioned)
        defer { scenario.remove() }
        try await withTestDatabase { database in
            try await scenario.prepare(database)
            // How long a clean load takes, to spread the kills over it (commit window included).
            // (Partitioned: a committed load, since --no-commit builds no partition; then back to the base.)
            let started = Date()
            let clean = try Child(["ingest", "--no-progress", scenario.load, "--writers", String(writers)] + (partitioned ? [] : ["--no-commit"]),
                                  databaseURL: database.url)
            #expect(await clean.wait() == 0)
            let span = max(0.2, Date().timeIntervalSince(started))
            if partitioned { try await scenario.reset(database) }
            for round in 0..<4 {
                let child = try Child(["ingest", "--no-progress", scenario.load, "--writers", String(writers)], databaseURL: database.url)
                try await Task.sleep(for: .seconds(Double.random(in: 0.05...(span * 1.1))))
                child.kill()
                let status = await child.wait()
                try await Leftovers.waitForSessionsToEnd(database)
                let now = try ScoresTable.snapshot(database)
                #expect(now == scenario.none || now == scenario.all, "round \(round): scores holds part of the load")
                try await scenario.check(database, committed: status == 0, recovery: round % 2 == 0 ? .nextLoad : .dbRecover)
                // Back to the base for the next round.
                try await scenario.reset(database)
            }
        }
    }

    @Test("pg_terminate_backend of one writer: the load starts again and commits all of it", arguments: [1, 2])
    func terminateWriter(writers: Int) async throws {
        let scenario = try await FaultScenario.make(tickers: 300)
        defer { scenario.remove() }
        try await withTestDatabase { database in
            try await scenario.prepare(database)
            // The test holds the load lock, so the load stops before its upsert with its
            // writers' transactions open: one of them is ended there, then the lock released.
            let holder = try database.connect()
            try holder.execute("SELECT pg_advisory_lock(\(LoadLock.key))")
            async let run = IngestCLI.ingest(database, [scenario.load, "--writers", String(writers), "--json"])
            var terminated: [String] = []
            let deadline = Date().addingTimeInterval(30)
            while terminated.isEmpty && Date() < deadline {
                let waiting = try holder.execute("""
                    SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """)[0, 0]
                if waiting == "1" {
                    terminated = try holder.execute("""
                        SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'
                        ORDER BY pid LIMIT 1
                        """).column
                }
                if terminated.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            }
            try holder.execute("SELECT pg_advisory_unlock(\(LoadLock.key))")
            let result = try await run
            try #require(terminated == ["true"], "no writer was seen waiting in its transaction:\n\(result)")
            #expect(result.status == 0, "\(result)")
            #expect(result.stderr.contains("starting again"), "\(result)")
            holder.close()
            try await scenario.check(database, committed: result.status == 0)
        }
    }
}
