import Foundation
import Testing
import GreyoakTestSupport

/// `--log-format json`: every line on stderr is one JSON object with the fields of a text
/// line (time, level, label, message), for a load, a failing upgrade and a refused password.
@Suite struct LogFormatTests {
    /// Each stderr line decoded; the test fails on any line that is not a JSON object with
    /// the four fields.
    static func objects(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty, "nothing on stderr:\n\(result)", sourceLocation: sourceLocation)
        return try lines.map { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let decoded = try #require(object, "not a JSON object: \(line)\n\(result)", sourceLocation: sourceLocation)
            for key in ["time", "level", "label", "message"] {
                #expect(decoded[key] is String, "no \(key) in \(line)", sourceLocation: sourceLocation)
            }
            return decoded
        }
    }

    @Test func aLoadLogsOneJSONObjectPerLine() async throws {
        try await withTestDatabase { db in
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let file = try scratch.write("scores.csv", ScoreRecord.csv([.valid(ticker: "AAA"), .valid(ticker: "BBB")]))
            // --auto-migrate on a fresh database, so that the load has lines to log; the
            // environment variable, as a container would set it.
            let load = try await CLI.run(["ingest", "--auto-migrate", file], databaseURL: db.url, migrations: IngestRepo.migrations,
                                         environment: ["GREYOAK_LOG_FORMAT": "json"])
            #expect(load.status == 0, "\(load)")
            let objects = try Self.objects(load)
            #expect(objects.allSatisfy { $0["level"] as? String != "error" })
            let running = objects.first { ($0["message"] as? String)?.hasPrefix("Running upgrade") == true }
            #expect(running?["label"] as? String == "greyoak.ingest", "\(load)")
            #expect(running?["level"] as? String == "info")
            #expect(load.stdout.contains("2 inserted"), "\(load)")
        }
    }

    @Test func aFailingUpgradeLogsItsFailureAsJSON() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            try migrations.write("ee0000000001", parents: [MigrationsDirectory.initialRevision], message: "Breaks",
                                 upgrade: "INSERT INTO no_such_table VALUES (1);", downgrade: "")
            let result = try await db.greyoak("db", "upgrade", "head", "--log-format", "json", migrations: migrations.path)
            #expect(result.status == 1, "\(result)")
            let failure = try #require(try Self.objects(result).last)
            #expect(failure["level"] as? String == "error")
            #expect((failure["message"] as? String)?.contains("relation \"no_such_table\" does not exist") == true, "\(result)")
        }
    }

    @Test func aRefusedPasswordIsNeverShownInJSON() async throws {
        try await withTestDatabase { db in
            let url = try DBConnectionTests.withCredentials(db.url, user: "greyoak", password: DBConnectionTests.password)
            let result = try await CLI.run(["db", "upgrade", "head", "--log-format", "json"], databaseURL: url,
                                           migrations: IngestRepo.migrations, environment: ["PGPASSFILE": "/nonexistent/pgpass"])
            #expect(result.status == 7, "\(result)")
            _ = try Self.objects(result)
            #expect(!result.stderr.contains(DBConnectionTests.password), "\(result)")
            #expect(result.stderr.contains("password authentication failed"), "\(result)")
        }
    }
}
