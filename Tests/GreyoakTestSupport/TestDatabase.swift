import Foundation
import Logging
import Testing
import GreyoakPostgres

/// A fresh, uniquely named database for one test on the server of
/// `GREYOAK_TEST_DATABASE_URL`, dropped (`WITH (FORCE)`) when the test's body ends.
///
/// Every database test goes through ``withTestDatabase(_:)``, so a missing variable fails
/// each of them here, with the one message that says what to do, instead of skipping.
package struct TestDatabase: Sendable {
    /// `greyoak_t_<random>`.
    package let name: String
    /// The admin URL with the database name replaced: no password (libpq reads PGPASSFILE).
    package let url: String
    package let adminURL: String

    package init(name: String, url: String, adminURL: String) {
        self.name = name
        self.url = url
        self.adminURL = adminURL
    }

    package static let variable = "GREYOAK_TEST_DATABASE_URL"

    /// The URL of a role that may CREATE DATABASE, or a test failure.
    package static func requireAdminURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let url = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        return try #require(url, """
            \(variable) is not set: the integration tests need a PostgreSQL role that may CREATE DATABASE. \
            Run them through scripts/test, or: scripts/pg start && eval "$(scripts/pg env)" && \
            \(variable)=$DATABASE_URL swift test
            """, sourceLocation: sourceLocation)
    }

    /// `url` with its database (the path) replaced by `database`, query kept.
    static func url(_ url: String, database: String) throws -> String {
        var components = try #require(URLComponents(string: url), "\(variable) is not a URL: \(RedactedURL.redact(url))")
        components.percentEncodedPath = "/" + database
        return try #require(components.string)
    }

    /// Connects to this database (or, with `url`, elsewhere) through GreyoakPostgres.
    package func connect(_ url: String? = nil) throws -> Connection {
        try Connection(ConnectionSettings(url: url ?? self.url, environment: [:]), logger: quietLogger)
    }

    /// Runs one statement on this database in a short-lived session and returns its rows.
    @discardableResult
    package func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        try connect().execute(sql, parameters).rows
    }

    /// The first column of a one-column result, NULLs dropped.
    package func column(_ sql: String, _ parameters: [String?] = []) throws -> [String] {
        try connect().execute(sql, parameters).column
    }

    /// The rows of `alembic_version` in order, or nil when the table does not exist.
    package func versionRows() throws -> [String]? {
        let connection = try connect()
        guard try connection.execute("SELECT to_regclass('alembic_version') IS NOT NULL")[0, 0] == "t" else { return nil }
        return try connection.execute("SELECT version_num FROM alembic_version ORDER BY version_num").column
    }

    package func tableExists(_ name: String) throws -> Bool {
        try connect().execute("SELECT to_regclass($1) IS NOT NULL", [name])[0, 0] == "t"
    }

    /// Column names of a table in attribute order.
    package func columns(of table: String) throws -> [String] {
        try column("""
            SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
            ORDER BY attnum
            """, [table])
    }
}

/// Logs nothing: server notices (such as DROP ... IF EXISTS) are not test output.
package let quietLogger = Logger(label: "greyoak.tests") { _ in SwiftLogNoOpLogHandler() }

/// Creates a fresh database, runs `body` with it, and drops the database however `body` ends.
///
/// The whole test holds one of the ``TestSlots`` unless `holdingSlot` is false (a suite's
/// shared database: its cases take a slot per `greyoak` run instead).
package func withTestDatabase<T>(
    holdingSlot: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (TestDatabase) async throws -> T
) async throws -> T {
    guard holdingSlot else { return try await makeTestDatabase(sourceLocation: sourceLocation, body) }
    return try await TestSlots.withSlot { try await makeTestDatabase(sourceLocation: sourceLocation, body) }
}

private func makeTestDatabase<T>(
    sourceLocation: SourceLocation, _ body: (TestDatabase) async throws -> T
) async throws -> T {
    let adminURL = try TestDatabase.requireAdminURL(sourceLocation: sourceLocation)
    let name = "greyoak_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    let database = TestDatabase(name: name, url: try TestDatabase.url(adminURL, database: name), adminURL: adminURL)
    let admin = try Connection(ConnectionSettings(url: adminURL, environment: [:]), logger: quietLogger)
    try admin.execute("CREATE DATABASE \(name)")
    admin.close()
    defer { drop(name, adminURL: adminURL, sourceLocation: sourceLocation) }
    return try await body(database)
}

/// Drops a test database: ends this role's sessions on it, then `DROP DATABASE`, which
/// also stops an autovacuum worker there and waits up to 5 s for sessions to go.
/// `WITH (FORCE)` is not used: it fails outright (42501) on any session it may not end, such
/// as one of another role (the password test's) and, it seems, an autovacuum worker. Three tries; the
/// errors are the test's issue if every try fails, and a note on stderr otherwise.
private func drop(_ name: String, adminURL: String, sourceLocation: SourceLocation) {
    var failures: [String] = []
    for attempt in 1...3 {
        do {
            let admin = try Connection(ConnectionSettings(url: adminURL, environment: [:]), logger: quietLogger)
            try admin.execute("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()
                """, [name])
            try admin.execute("DROP DATABASE IF EXISTS \(name)")
            if !failures.isEmpty {
                FileHandle.standardError.write(Data("note: dropping \(name) took \(attempt) tries:\n\(failures.joined(separator: "\n"))\n".utf8))
            }
            return
        } catch {
            failures.append("attempt \(attempt): \(error)")
            Thread.sleep(forTimeInterval: 0.5)
        }
    }
    Issue.record("could not drop test database \(name):\n\(failures.joined(separator: "\n"))", sourceLocation: sourceLocation)
}
