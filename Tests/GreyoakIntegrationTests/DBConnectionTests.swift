import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// Where greyoak connects, what it says when it cannot, and that no password is ever shown.
@Suite struct DBConnectionTests {
    static let password = "S3cr3t-Pa55"

    /// `url` with a user and password put in front of the host.
    static func withCredentials(_ url: String, user: String, password: String) throws -> String {
        var components = try #require(URLComponents(string: url))
        components.user = user
        components.password = password
        return try #require(components.string)
    }

    func expectNoPassword(_ result: CLIResult, _ password: String = DBConnectionTests.password,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.stdout.contains(password), "password on stdout:\n\(result)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains(password), "password on stderr:\n\(result)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [["current"], ["current", "-v"], ["upgrade", "head"], ["downgrade", "base"], ["stamp", "head"], ["verify"], ["history", "-i"]])
    func cannotConnect(_ command: [String]) async throws {
        let url = "postgresql://nobody:\(Self.password)@127.0.0.1:1/x"
        let result = try await CLI.run(["db"] + command, databaseURL: url, migrations: MigrationsDirectory.repository())
        #expect(result.status == 7, "\(result)")
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("FAILED: connecting to postgresql://nobody:***@127.0.0.1:1/x: "), "\(result)")
        #expect(result.stderr.contains("hint: check DATABASE_URL"))
        expectNoPassword(result)
    }

    @Test func wrongPasswordInTheURL() async throws {
        try await withTestDatabase { db in
            let url = try Self.withCredentials(db.url, user: "greyoak", password: Self.password)
            let result = try await CLI.run(["db", "current", "-v"], databaseURL: url, migrations: MigrationsDirectory.repository())
            #expect(result.status == 7, "\(result)")
            #expect(result.stderr.contains("password authentication failed for user \"greyoak\""), "\(result)")
            #expect(result.stderr.contains("greyoak:***@"), "\(result)")
            expectNoPassword(result)
        }
    }

    @Test func wrongPasswordAsAURLParameter() async throws {
        try await withTestDatabase { db in
            let result = try await CLI.run(["db", "upgrade", "head"], databaseURL: db.url + "?password=\(Self.password)",
                                           migrations: MigrationsDirectory.repository())
            #expect(result.status == 7, "\(result)")
            #expect(result.stderr.contains("password=***"), "\(result)")
            expectNoPassword(result)
            #expect(try db.versionRows() == nil)
        }
    }

    @Test func wrongPasswordInPGPASSWORD() async throws {
        try await withTestDatabase { db in
            let result = try await CLI.run(["db", "verify"], databaseURL: db.url, migrations: MigrationsDirectory.repository(),
                                           environment: ["PGPASSWORD": Self.password, "PGPASSFILE": "/nonexistent/pgpass"])
            #expect(result.status == 7, "\(result)")
            #expect(result.stderr.contains("password authentication failed"), "\(result)")
            expectNoPassword(result)
        }
    }

    @Test func wrongPasswordInAKeyValueConninfo() async throws {
        try await withTestDatabase { db in
            let components = try #require(URLComponents(string: db.url))
            let conninfo = "host=\(components.host ?? "127.0.0.1") port=\(components.port ?? 5432) dbname=\(db.name) user=greyoak password=\(Self.password)"
            let result = try await CLI.run(["db", "current", "--database-url", conninfo], databaseURL: nil,
                                           migrations: MigrationsDirectory.repository())
            #expect(result.status == 7, "\(result)")
            #expect(result.stderr.contains("password=***"), "\(result)")
            expectNoPassword(result)
        }
    }

    /// A role with a password, connecting for real: `current -v` shows the URL redacted.
    @Test func passwordOfASuccessfulConnectionIsRedacted() async throws {
        try await withTestDatabase { db in
            let role = "greyoak_r_" + db.name.dropFirst("greyoak_t_".count)
            let admin = try db.connect(db.adminURL)
            do {
                try admin.execute("CREATE ROLE \(role) LOGIN PASSWORD '\(Self.password)'")
            } catch let error as PostgresError where error.sqlState == SQLState.insufficientPrivilege {
                try Test.cancel("the role of \(TestDatabase.variable) may not CREATE ROLE (it needs CREATEROLE): \(error.message)")
            }
            defer { _ = try? admin.execute("DROP ROLE IF EXISTS \(role)") }
            try admin.execute("GRANT CONNECT ON DATABASE \(db.name) TO \(role)")
            defer { _ = try? admin.execute("REVOKE ALL ON DATABASE \(db.name) FROM \(role)") }

            let url = try Self.withCredentials(db.url, user: role, password: Self.password)
            let result = try await CLI.run(["db", "current", "-v"], databaseURL: url, migrations: MigrationsDirectory.repository())
            // The child's session may outlive it for a moment, and the test role cannot end
            // another role's session: dropping the database would fail on it.
            var polls = 0
            while polls < 100, try admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = $1", [role])[0, 0] != "0" {
                polls += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == ["Current revision(s) for \(try Self.withCredentials(db.url, user: role, password: "***")):"])
            expectNoPassword(result)
        }
    }

    @Test func flagOverridesDatabaseURL() async throws {
        try await withTestDatabase { db in
            let result = try await CLI.run(["db", "current", "-v", "--database-url", db.url], databaseURL: unreachableDatabaseURL,
                                           migrations: MigrationsDirectory.repository())
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == ["Current revision(s) for \(db.url):"])
        }
    }

    @Test func sqlalchemyURLIsAccepted() async throws {
        try await withTestDatabase { db in
            let url = db.url.replacingOccurrences(of: "postgresql://", with: "postgresql+psycopg2://")
            try #require(url != db.url)
            let result = try await CLI.run(["db", "upgrade", "head"], databaseURL: url, migrations: MigrationsDirectory.repository())
            #expect(result.status == 0, "\(result)")
            #expect(try db.versionRows() == [MigrationsDirectory.initialRevision])
        }
    }

    @Test func pgVariablesWhenThereIsNoURL() async throws {
        try await withTestDatabase { db in
            let components = try #require(URLComponents(string: db.url))
            let result = try await CLI.run(["db", "current", "-v"], databaseURL: nil, migrations: MigrationsDirectory.repository(),
                                           environment: ["PGHOST": components.host, "PGPORT": components.port.map(String.init),
                                                         "PGUSER": components.user, "PGDATABASE": db.name])
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == ["Current revision(s) for the PG* environment:"])
        }
    }
}
