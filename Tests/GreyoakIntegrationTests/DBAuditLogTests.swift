import Foundation
import Testing
import GreyoakMigrations
import GreyoakTestSupport

/// `greyoak_migration_log`: one row per applied or reverted revision.
@Suite struct DBAuditLogTests {
    @Test func upgradeAndDowngradeRows() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory.copyOfRepository()
            defer { migrations.remove() }
            let checksum = try sha256sum(migrations.path + "/" + MigrationsDirectory.initialFile)
            let before = Date()
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            try await db.succeed("db", "downgrade", "base", migrations: migrations.path)
            let after = Date()

            let rows = try db.query("""
                SELECT revision, operation, heads_before, heads_after, file_sha256, db_role, os_user, client_host,
                       host(client_addr), duration_ms >= 0, greyoak_version,
                       extract(epoch FROM started_at)::float8
                FROM greyoak_migration_log ORDER BY id
                """)
            try #require(rows.count == 2, "\(rows)")
            let role = try #require(URLComponents(string: db.url)?.user)
            let common: [String?] = [checksum, role, ProcessInfo.processInfo.userName, ProcessInfo.processInfo.hostName,
                                     "127.0.0.1", "t", GreyoakMigrations.Greyoak.version]
            #expect(Array(rows[0].prefix(11)) == ["183eb85141bf", "upgrade", "", "183eb85141bf"] + common)
            #expect(Array(rows[1].prefix(11)) == ["183eb85141bf", "downgrade", "183eb85141bf", ""] + common)
            for row in rows {
                let started = try #require(row[11].flatMap(Double.init))
                #expect(started >= before.timeIntervalSince1970 - 1 && started <= after.timeIntervalSince1970 + 1, "\(row)")
            }
        }
    }

    @Test func durationCoversTheMigration() async throws {
        try await withTestDatabase { db in
            let migrations = try MigrationsDirectory()
            defer { migrations.remove() }
            try migrations.write("5a0000000001", message: "Slow", upgrade: "SELECT pg_sleep(0.3);")
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let duration = try #require(db.column("SELECT duration_ms FROM greyoak_migration_log").first.flatMap(Double.init))
            #expect(duration >= 300 && duration < 10_000)
        }
    }
}
