import Foundation
import Testing
import GreyoakTestSupport

/// `revision` and `merge`: new files in the migrations directory; no database involved.
@Suite struct DBAuthorCommandTests {
    func run(_ arguments: String..., migrations: MigrationsDirectory) async throws -> CLIResult {
        try await CLI.run(arguments, databaseURL: unreachableDatabaseURL, migrations: migrations.path)
    }

    /// The path in `Generating <path> ...  done`, checked to be a new file of the directory.
    func generatedPath(_ result: CLIResult, in migrations: MigrationsDirectory,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        let line = try #require(result.lines.count == 1 ? result.lines[0] : nil, "\(result)", sourceLocation: sourceLocation)
        try #require(line.hasPrefix("Generating \(migrations.path)/") && line.hasSuffix(" ...  done"), "\(line)",
                     sourceLocation: sourceLocation)
        let path = String(line.dropFirst("Generating ".count).dropLast(" ...  done".count))
        try #require(FileManager.default.fileExists(atPath: path), sourceLocation: sourceLocation)
        return path
    }

    func header(_ path: String, _ key: String) throws -> String? {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").first { $0.hasPrefix("-- \(key):") }
            .map { $0.dropFirst("-- \(key):".count).trimmingCharacters(in: .whitespaces) }
    }

    @Test func revisionOnTopOfTheHead() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let path = try generatedPath(try await run("db", "revision", "-m", "Add confidence column", migrations: migrations), in: migrations)
        let name = (path as NSString).lastPathComponent
        let id = String(name.prefix(12))
        #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(name == "\(id)_add_confidence_column.sql")
        #expect(try header(path, "Revision ID") == id)
        #expect(try header(path, "Revises") == "183eb85141bf")
        #expect(try header(path, "Transactional") == nil)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("-- Add confidence column\n--\n-- Revision ID: \(id)\n"))
        #expect(text.contains("\n-- migrate:upgrade\n") && text.contains("\n-- migrate:downgrade\n"))

        let heads = try await run("db", "heads", migrations: migrations)
        #expect(heads.lines == ["\(id) (head)"])
        let history = try await run("db", "history", migrations: migrations)
        #expect(history.lines == [
            "183eb85141bf -> \(id) (head), Add confidence column",
            "<base> -> 183eb85141bf, Initial schema with scores table",
        ])
    }

    @Test func freshIDsDiffer() async throws {
        let migrations = try MigrationsDirectory()
        defer { migrations.remove() }
        let first = try generatedPath(try await run("db", "revision", "-m", "one", migrations: migrations), in: migrations)
        let second = try generatedPath(try await run("db", "revision", "-m", "two", migrations: migrations), in: migrations)
        #expect(try header(second, "Revises") == header(first, "Revision ID"))
        #expect(try header(first, "Revises") == "")
        #expect(try header(first, "Revision ID") != header(second, "Revision ID"))
    }

    @Test func revisionWithAGivenIDAndNonTransactional() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let path = try generatedPath(try await run("db", "revision", "-m", "Index as_of", "--rev-id", "abc123",
                                                   "--non-transactional", migrations: migrations), in: migrations)
        #expect(path == migrations.path + "/abc123_index_as_of.sql")
        #expect(try header(path, "Transactional") == "no")

        let again = try await run("db", "revision", "-m", "again", "--rev-id", "abc123", migrations: migrations)
        #expect(again.status == 2, "\(again)")
        #expect(again.stderr.hasPrefix("FAILED: Revision abc123 is already present in \(path)"))

        let invalid = try await run("db", "revision", "-m", "bad", "--rev-id", "no-dash", migrations: migrations)
        #expect(invalid.status == 2, "\(invalid)")
    }

    @Test func newBranchFromBaseThenMultipleHeadsThenMerge() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let branch = try generatedPath(try await run("db", "revision", "-m", "Second root", "--head", "base",
                                                     "--rev-id", "b0b0b0b0b0b0", migrations: migrations), in: migrations)
        #expect(try header(branch, "Revises") == "")
        let heads = try await run("db", "heads", migrations: migrations)
        #expect(heads.lines == ["183eb85141bf (head)", "b0b0b0b0b0b0 (head)"])

        let before = try FileManager.default.contentsOfDirectory(atPath: migrations.path).sorted()
        let refused = try await run("db", "revision", "-m", "ambiguous", migrations: migrations)
        #expect(refused.status == 5, "\(refused)")
        #expect(refused.stderr.hasPrefix("FAILED: Multiple heads are present; please specify the head revision on which the new revision should be based, or perform a merge.\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: migrations.path).sorted() == before)

        let onBranch = try generatedPath(try await run("db", "revision", "-m", "on branch", "--head", "b0b0",
                                                       "--rev-id", "c0c0c0c0c0c0", migrations: migrations), in: migrations)
        #expect(try header(onBranch, "Revises") == "b0b0b0b0b0b0")
        let branchHead = try #require(try header(onBranch, "Revision ID"))

        let merge = try generatedPath(try await run("db", "merge", "heads", "-m", "merge heads", "--rev-id", "e0e0e0e0e0e0",
                                                    migrations: migrations), in: migrations)
        #expect(merge == migrations.path + "/e0e0e0e0e0e0_merge_heads.sql")
        #expect(try header(merge, "Revises") == "183eb85141bf, \(branchHead)")
        let history = try await run("db", "history", migrations: migrations)
        #expect(history.lines.first == "183eb85141bf, \(branchHead) -> e0e0e0e0e0e0 (head) (mergepoint), merge heads")
        let single = try await run("db", "heads", migrations: migrations)
        #expect(single.lines == ["e0e0e0e0e0e0 (head)"])
    }

    @Test func mergeNeedsTwoRevisions() async throws {
        let migrations = try MigrationsDirectory.copyOfRepository()
        defer { migrations.remove() }
        let result = try await run("db", "merge", "heads", "-m", "nothing to merge", migrations: migrations)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("FAILED: merge needs at least two distinct revisions, got 183eb85141bf"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: migrations.path) == [MigrationsDirectory.initialFile])
    }
}
