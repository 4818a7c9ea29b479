import Foundation
import Testing
import GreyoakTestSupport

/// Any SQL file that psql loads into an empty database round-trips: on a database at an
/// empty head, `revision --autogenerate --from-schema FILE` writes a migration that, applied,
/// leaves nothing to generate and passes `db verify`; its downgrade goes back to empty.
///
/// The files: `Tests/schema-files/` (written to cover every kind of object greyoak compares),
/// every `after.sql` of the corpus, and schemas made at random from fixed seeds
/// (``RandomSchema``).
@Suite struct DBSchemaFileRoundTripTests {
    static let tests: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let files: [String] = {
        let manager = FileManager.default
        let own = ((try? manager.contentsOfDirectory(atPath: "\(tests)/schema-files")) ?? []).filter { $0.hasSuffix(".sql") }.sorted()
            .map { "schema-files/\($0)" }
        let corpus = ((try? manager.contentsOfDirectory(atPath: "\(tests)/schema-diff-corpus")) ?? []).sorted()
            .map { "schema-diff-corpus/\($0)/after.sql" }.filter { manager.fileExists(atPath: "\(tests)/\($0)") }
        // `GREYOAK_SCHEMA_FILES=a,b` runs only the files whose path contains a or b (while working on them).
        guard let only = ProcessInfo.processInfo.environment["GREYOAK_SCHEMA_FILES"], !only.isEmpty else { return own + corpus }
        return (own + corpus).filter { file in only.split(separator: ",").contains { file.contains($0) } }
    }()

    @Test func theFilesAreThere() {
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(Self.tests)/schema-files")) ?? []).count >= 3)
    }

    @Test(arguments: files)
    func fileRoundTrips(_ file: String) async throws {
        try await roundTrip("\(Self.tests)/\(file)")
    }

    @Test(arguments: [1, 2, 3, 4])
    func randomSchemaRoundTrips(_ seed: UInt64) async throws {
        let path = NSTemporaryDirectory() + "greyoak-random-schema-\(seed)-\(UUID().uuidString).sql"
        try RandomSchema(seed: seed).sql.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await roundTrip(path)
    }

    /// A file's first line may give the options it needs: `-- greyoak-test: --schema a --schema b`.
    func roundTrip(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let first = (try String(contentsOfFile: path, encoding: .utf8)).prefix { $0 != "\n" }
        let options = first.hasPrefix("-- greyoak-test: ") ? first.dropFirst(17).split(separator: " ").map(String.init) : []
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        try migrations.write("r0", message: "empty", upgrade: "")
        try await withTestDatabase { db in
            try await db.succeed("db", "upgrade", "head", migrations: migrations.path)
            let generate = try await CLI.run(["db", "revision", "--autogenerate", "--from-schema", path, "-m", "file", "--rev-id", "r1"] + options,
                                             databaseURL: db.url, migrations: migrations.path)
            try #require(generate.status == 0, "\(generate)", sourceLocation: sourceLocation)
            let generated = try String(contentsOfFile: migrations.path + "/r1_file.sql", encoding: .utf8)
            let upgrade = try await db.greyoak("db", "upgrade", "head", migrations: migrations.path)
            try #require(upgrade.status == 0, "\(upgrade)\n\(generated)", sourceLocation: sourceLocation)
            let again = try await CLI.run(["db", "revision", "--autogenerate", "--from-schema", path, "-m", "again"] + options,
                                          databaseURL: db.url, migrations: migrations.path)
            #expect(again.lines == ["No changes: \(path) matches what the migrations build at r1; no file written"],
                    "\(again)\n\(generated)", sourceLocation: sourceLocation)
            let verify = try await CLI.run(["db", "verify"] + options, databaseURL: db.url, migrations: migrations.path)
            #expect(verify.status == 0, "\(verify)\n\(generated)", sourceLocation: sourceLocation)
            let downgrade = try await db.greyoak("db", "downgrade", "r0", migrations: migrations.path)
            #expect(downgrade.status == 0, "\(downgrade)\n\(generated)", sourceLocation: sourceLocation)
            let empty = try await CLI.run(["db", "verify"] + options, databaseURL: db.url, migrations: migrations.path)
            #expect(empty.lines.filter { $0.hasPrefix("problem:") && !$0.contains("not at head") } == [],
                    "\(empty)\n\(generated)", sourceLocation: sourceLocation)
        }
    }
}
