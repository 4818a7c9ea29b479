import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// A load role with the README's grants only: no CREATE, no DELETE or TRUNCATE on scores.
@Suite("Least privilege: a loader role")
struct IngestLeastPrivilegeTests {
    static let password = "loader-pass-4711"

    /// The README's loader grants, for `role` on `database`.
    static func loaderGrants(role: String, database: String) -> [String] {
        [
            "GRANT CONNECT, TEMPORARY ON DATABASE \(database) TO \(role)",
            "GRANT USAGE ON SCHEMA public TO \(role)",
            "GRANT SELECT, INSERT, UPDATE ON scores TO \(role)",
            "GRANT SELECT ON alembic_version, greyoak_migration_log TO \(role)",
            "GRANT SELECT, INSERT, UPDATE ON greyoak_load, greyoak_ingest_log TO \(role)",
            "GRANT SELECT, INSERT, DELETE ON greyoak_stage TO \(role)",
            "GRANT USAGE ON SEQUENCE greyoak_load_id_seq, greyoak_ingest_log_id_seq TO \(role)",
        ]
    }

    /// Runs `body` with the URL of a new role that has the loader grants on `database`
    /// (after `prepare`, run as the owner), dropping the role afterwards.
    static func withLoader(_ database: TestDatabase, prepare: (Connection) throws -> Void = { _ in },
                           _ body: (_ url: String, _ owner: Connection, _ role: String) async throws -> Void) async throws {
        let role = "greyoak_l_" + database.name.dropFirst("greyoak_t_".count)
        let admin = try database.connect(database.adminURL)
        try admin.execute("CREATE ROLE \(role) LOGIN PASSWORD '\(password)'")
        let owner = try database.connect()
        defer {
            _ = try? owner.execute("DROP OWNED BY \(role)")
            _ = try? admin.execute("REVOKE ALL ON DATABASE \(database.name) FROM \(role)")
            _ = try? admin.execute("DROP ROLE IF EXISTS \(role)")
        }
        for grant in loaderGrants(role: role, database: database.name) { try owner.execute(grant) }
        try prepare(owner)
        var components = try #require(URLComponents(string: database.url))
        components.user = role
        components.password = password
        try await body(try #require(components.string), owner, role)
        // The role's sessions must end before the role and the database can be dropped.
        try await Leftovers.waitForSessionsToEnd(database)
    }

    @Test("loads (one and two writers), --each-file and db verify work with the loader's grants alone")
    func loader() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            try await Self.withLoader(database) { url, owner, role in
            let loader = TestDatabase(name: database.name, url: url, adminURL: database.adminURL)

            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let first = scratch.file("a.csv"), second = scratch.file("b.csv")
            try GenScores.run(["--tickers", "100", "--days", "2", "--out", first])
            try GenScores.run(["--tickers", "100", "--days", "3", "--changed-fraction", "0.1", "--out", second])
            for writers in ["1", "2"] {
                let result = try await IngestCLI.ingest(loader, [first, "--writers", writers], databaseURL: url)
                #expect(result.status == 0, "\(result)")
            }
            let eachFile = try await IngestCLI.ingest(loader, [first, second, "--each-file"], databaseURL: url)
            #expect(eachFile.status == 0, "\(eachFile)")
            #expect(try database.column("SELECT count(*) FROM greyoak_ingest_log") == ["2"])
            let verify = try await CLI.run(["db", "verify"], databaseURL: url, migrations: IngestRepo.migrations)
            #expect(verify.status == 0, "\(verify)")

            // A grant missing: verify names what it could not read.
            try owner.execute("REVOKE SELECT ON greyoak_migration_log FROM \(role)")
            let refused = try await CLI.run(["db", "verify"], databaseURL: url, migrations: IngestRepo.migrations)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("permission denied for table greyoak_migration_log"), "\(refused)")
            }
        }
    }

    @Test("a database whose bookkeeping tables are missing: the loader is told to run db upgrade")
    func missingBookkeeping() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            try await Self.withLoader(database, prepare: { try $0.execute("DROP TABLE greyoak_ingest_log") }) { url, _, _ in
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let file = try scratch.write("one.csv", ScoreRecord.csv([ScoreRecord.valid(ticker: "TCS.NS")]))
            let result = try await IngestCLI.ingest(database, [file, "--each-file"], databaseURL: url)
            #expect(result.status == 3, "\(result)")
            #expect(result.stderr.contains("greyoak_ingest_log"), "\(result)")
            #expect(result.stderr.contains("greyoak db upgrade head"), "\(result)")
            }
        }
    }
}
