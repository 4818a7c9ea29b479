import Foundation
import Testing
import GreyoakPostgres
import GreyoakMigrations

@Suite struct MigrationScriptWriterTests {
    /// Alembic's slug: `\w+` words joined by `_`, lower case, cut to 40 characters at the
    /// last `_` with a `_` appended (expected values computed with Alembic's own expression).
    @Test(arguments: [
        ("Initial schema with scores table", "initial_schema_with_scores_table"),
        ("Add confidence (0-1) column!", "add_confidence_0_1_column"),
        ("Fix: don't break   the   build", "fix_don_t_break_the_build"),
        ("", ""),
        ("abcdefghij abcdefghij abcdefghij abcdefg", "abcdefghij_abcdefghij_abcdefghij_abcdefg"),
        ("abcdefghij abcdefghij abcdefghij abcdefgh", "abcdefghij_abcdefghij_abcdefghij_"),
        (String(repeating: "a", count: 50), String(repeating: "a", count: 40) + "_"),
        ("add a very long message that goes past forty characters easily", "add_a_very_long_message_that_goes_past_"),
    ] as [(String, String)])
    func slug(_ message: String, _ slug: String) {
        #expect(MigrationScriptWriter.slug(message) == slug)
    }

    @Test func freshIDsAreTwelveHexDigits() {
        let ids = (0..<50).map { _ in MigrationScriptWriter.freshID() }
        for id in ids {
            #expect(id.count == 12)
            #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
        #expect(Set(ids).count == ids.count)
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-writer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func localDate(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) throws -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone.current
        return try #require(calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)))
    }

    @Test func writesTheBuiltinTemplate() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let graph = try RevisionGraph(directory: directory, migrations: [Fixtures.migration("183eb85141bf")])
        let path = try MigrationScriptWriter(directory: directory).write(
            message: "Add confidence column", revision: "2b7e0c9d4a11", parents: ["183eb85141bf"],
            graph: graph, now: Self.localDate(2025, 11, 2, 9, 15, 0))

        #expect(path == directory + "/2b7e0c9d4a11_add_confidence_column.sql")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == """
            -- Add confidence column
            --
            -- Revision ID: 2b7e0c9d4a11
            -- Revises: 183eb85141bf
            -- Create Date: 2025-11-02 09:15:00.000000

            -- migrate:upgrade


            -- migrate:downgrade


            """)
        let migration = try Migration.parse(Array(text.utf8), path: path)
        #expect(migration.revision == "2b7e0c9d4a11")
        #expect(migration.parents == ["183eb85141bf"])
        #expect(migration.message == "Add confidence column")
        #expect(migration.transactional)
        #expect(migration.upgrade.isEmpty && migration.downgrade.isEmpty)
    }

    @Test func nonTransactionalMergeWithAFreshID() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let graph = try RevisionGraph(directory: directory, migrations: [Fixtures.migration("a1"), Fixtures.migration("b2")])
        let path = try MigrationScriptWriter(directory: directory).write(
            message: "merge heads", revision: nil, parents: ["a1", "b2"], transactional: false, graph: graph)
        let name = (path as NSString).lastPathComponent
        #expect(name.count == 12 + "_merge_heads.sql".count)
        #expect(name.hasSuffix("_merge_heads.sql"))
        let migration = try Migration.parse(Array(try #require(FileManager.default.contents(atPath: path))), path: path)
        #expect(migration.revision == String(name.prefix(12)))
        #expect(migration.parents == ["a1", "b2"])
        #expect(!migration.transactional)
    }

    @Test func usesTheDirectorysTemplate() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "-- ${message}\n-- Revision ID: ${revision}\n-- Revises: ${parents}\n-- migrate:upgrade\n-- ${create_date}\n-- migrate:downgrade\n"
            .write(toFile: directory + "/script.sql.template", atomically: true, encoding: .utf8)
        let graph = try RevisionGraph(directory: directory, migrations: [])
        let path = try MigrationScriptWriter(directory: directory).write(
            message: "two\nlines", revision: "abc123", parents: [], graph: graph, now: Self.localDate(2024, 1, 5, 7, 8, 9))
        #expect(try String(contentsOfFile: path, encoding: .utf8)
            == "-- two lines\n-- Revision ID: abc123\n-- Revises: \n-- migrate:upgrade\n-- 2024-01-05 07:08:09.000000\n-- migrate:downgrade\n")
        #expect(path == directory + "/abc123_two_lines.sql")
    }

    @Test func refusesAnExistingOrInvalidID() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let graph = try RevisionGraph(directory: directory, migrations: [Fixtures.migration("a1")])
        let writer = MigrationScriptWriter(directory: directory)
        let duplicate = try #require(throws: GreyoakError.self) {
            try writer.write(message: "x", revision: "a1", parents: [], graph: graph)
        }
        #expect(duplicate.message == "Revision a1 is already present in /virtual/a1.sql")
        let invalid = try #require(throws: GreyoakError.self) {
            try writer.write(message: "x", revision: "no-dash", parents: [], graph: graph)
        }
        #expect(invalid.code == .usage)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    /// A recipe's files chain onto the head, each revising the one before; the last takes
    /// `--rev-id`; files read back as migrations with the recipe's transaction settings.
    @Test func recipeFilesChainOntoTheHead() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let graph = try RevisionGraph(directory: directory, migrations: [Fixtures.migration("183eb85141bf")])
        let paths = try MigrationScriptWriter(directory: directory).write(
            recipe: .partitionScores, message: "Partition scores", revision: "p2", parents: ["183eb85141bf"], graph: graph)
        let migrations = try paths.map { try Migration.parse(Array(try Data(contentsOf: URL(fileURLWithPath: $0))), path: $0) }
        #expect(migrations.map(\.parents) == [["183eb85141bf"], [migrations[0].revision]])
        #expect(migrations[1].revision == "p2")
        #expect(migrations.map(\.transactional) == [false, true])
        #expect(migrations[0].message == "Partition scores (1 of 2: bound the rows already there)")
        #expect(migrations[0].upgrade.last?.text == "ALTER TABLE scores VALIDATE CONSTRAINT scores_legacy_bound")
        #expect(migrations[1].upgrade.contains { $0.text.contains("ALTER TABLE scores RENAME TO scores_legacy;") || $0.text.hasSuffix("ALTER TABLE scores RENAME TO scores_legacy") })
        #expect(!migrations[1].downgrade.isEmpty && !migrations[0].downgrade.isEmpty)

        // Written once: the migrations hold it, so a second time is refused.
        let again = try RevisionGraph(directory: directory, migrations: [Fixtures.migration("183eb85141bf")] + migrations)
        #expect(throws: GreyoakError.self) {
            try MigrationScriptWriter(directory: directory).write(
                recipe: .partitionScores, message: "Again", revision: nil, parents: ["p2"], graph: again)
        }
    }

    /// An id already taken stops the recipe, and the files written before it are removed.
    @Test func recipeThatCannotBeWrittenLeavesNoFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let graph = try RevisionGraph(directory: directory, migrations: [Fixtures.migration("183eb85141bf")])
        #expect(throws: GreyoakError.self) {
            try MigrationScriptWriter(directory: directory).write(
                recipe: .partitionScores, message: "Partition scores", revision: "183eb85141bf", parents: ["183eb85141bf"], graph: graph)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        #expect(throws: GreyoakError.self) { try MigrationRecipe.named("partition-everything") }
    }
}
