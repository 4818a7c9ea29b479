import Foundation
import Testing
@testable import GreyoakPostgres
@testable import GreyoakMigrations

@Suite struct MigrationParseTests {
    @Test func parsesTheRepositoryMigration() throws {
        let path = Fixtures.repositoryMigrations() + "/183eb85141bf_initial_schema_with_scores_table.sql"
        let data = try #require(FileManager.default.contents(atPath: path))
        let migration = try Migration.parse(Array(data), path: path)

        #expect(migration.revision == "183eb85141bf")
        #expect(migration.parents == [])
        #expect(migration.message == "Initial schema with scores table")
        #expect(migration.createDate == "2025-10-08 16:42:26.000000")
        #expect(migration.transactional)
        #expect(migration.fileName == "183eb85141bf_initial_schema_with_scores_table.sql")
        #expect(migration.upgrade.first?.text == "CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid')")
        #expect(migration.upgrade.map(\.text).filter { $0.hasPrefix("CREATE INDEX") }.count == 4)
        #expect(migration.downgrade.map(\.text) == ["DROP TABLE scores", "DROP TYPE band_enum"])
        #expect(migration.docLines.prefix(3) == ["Initial schema with scores table", "", "Revision ID: 183eb85141bf"])
        #expect(migration.checksum == SHA256.hex(Array(data)))
    }

    @Test func headerFieldsAndStatementLinesOfAFullFile() throws {
        let text = """
            -- Add confidence column
            --
            -- Revision ID: 2b7e0c9d4a11
            -- Revises: 183eb85141bf
            -- Create Date: 2025-11-02 09:15:00.000000

            -- migrate:upgrade
            ALTER TABLE scores ADD COLUMN confidence FLOAT;

            UPDATE scores
               SET confidence = 0;

            -- migrate:downgrade
            ALTER TABLE scores DROP COLUMN confidence;

            """
        let migration = try Migration.parse(Array(text.utf8), path: "m/2b7e0c9d4a11_add.sql")
        #expect(migration.revision == "2b7e0c9d4a11")
        #expect(migration.parents == ["183eb85141bf"])
        #expect(migration.message == "Add confidence column")
        #expect(migration.createDate == "2025-11-02 09:15:00.000000")
        #expect(migration.transactional)
        #expect(migration.upgrade == [
            .init(text: "ALTER TABLE scores ADD COLUMN confidence FLOAT", line: 8),
            .init(text: "UPDATE scores\n   SET confidence = 0", line: 10),
        ])
        #expect(migration.downgrade == [.init(text: "ALTER TABLE scores DROP COLUMN confidence", line: 14)])
        #expect(migration.docLines == [
            "Add confidence column", "", "Revision ID: 2b7e0c9d4a11", "Revises: 183eb85141bf",
            "Create Date: 2025-11-02 09:15:00.000000",
        ])
        #expect(migration.statements(upgrade: false) == migration.downgrade)
    }

    @Test(arguments: [
        ("a1, b2", ["a1", "b2"]),
        ("a1,b2,c3", ["a1", "b2", "c3"]),
        ("  a1  ", ["a1"]),
        ("", []),
    ] as [(String, [String])])
    func revisesLists(_ revises: String, _ parents: [String]) throws {
        let text = "-- m\n--\n-- Revision ID: m1\n-- Revises: \(revises)\n\n-- migrate:upgrade\n-- migrate:downgrade\n"
        #expect(try Migration.parse(Array(text.utf8), path: "x.sql").parents == parents)
    }

    @Test(arguments: [("no", false), ("No", false), ("false", false), ("yes", true), ("TRUE", true)] as [(String, Bool)])
    func transactionalFlag(_ value: String, _ expected: Bool) throws {
        let text = "-- m\n-- Revision ID: m1\n-- Transactional: \(value)\n-- migrate:upgrade\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- migrate:downgrade\n"
        let migration = try Migration.parse(Array(text.utf8), path: "x.sql")
        #expect(migration.transactional == expected)
        #expect(migration.message == "m")
    }

    @Test func windowsLineEndings() throws {
        let text = "-- m\r\n-- Revision ID: m1\r\n-- Revises: m0\r\n-- migrate:upgrade\r\nSELECT 1;\r\n-- migrate:downgrade\r\nSELECT 2;\r\n"
        let migration = try Migration.parse(Array(text.utf8), path: "x.sql")
        #expect(migration.revision == "m1")
        #expect(migration.parents == ["m0"])
        #expect(migration.upgrade == [.init(text: "SELECT 1", line: 5)])
        #expect(migration.downgrade == [.init(text: "SELECT 2", line: 7)])
    }

    struct BadFile: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let line: Int?
        let message: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        BadFile(name: "no upgrade marker", text: "-- Revision ID: m1\n-- migrate:downgrade\n", line: nil,
                message: "has no '-- migrate:upgrade' line"),
        BadFile(name: "no downgrade marker", text: "-- Revision ID: m1\n-- migrate:upgrade\nSELECT 1;\n", line: nil,
                message: "has no '-- migrate:downgrade' line after '-- migrate:upgrade'"),
        BadFile(name: "markers swapped", text: "-- Revision ID: m1\n-- migrate:downgrade\n-- migrate:upgrade\n", line: nil,
                message: "has no '-- migrate:downgrade' line after '-- migrate:upgrade'"),
        BadFile(name: "no revision id", text: "-- m\n-- Revises: a1\n-- migrate:upgrade\n-- migrate:downgrade\n", line: nil,
                message: "has no 'Revision ID:' header line"),
        BadFile(name: "empty revision id", text: "-- m\n-- Revision ID:\n-- migrate:upgrade\n-- migrate:downgrade\n", line: nil,
                message: "has no 'Revision ID:' header line"),
        BadFile(name: "dash in id", text: "-- m\n--\n-- Revision ID: 12-34\n-- migrate:upgrade\n-- migrate:downgrade\n", line: 3,
                message: "revision id \"12-34\" must be 1-32 letters, digits or _"),
        BadFile(name: "33-character id", text: "-- m\n-- Revision ID: \(String(repeating: "a", count: 33))\n-- migrate:upgrade\n-- migrate:downgrade\n",
                line: 2, message: "revision id \"\(String(repeating: "a", count: 33))\" must be 1-32 letters, digits or _"),
        BadFile(name: "quote in id", text: "-- m\n-- Revision ID: a'1\n-- migrate:upgrade\n-- migrate:downgrade\n", line: 2,
                message: "revision id \"a'1\" must be 1-32 letters, digits or _"),
        BadFile(name: "bad parent", text: "-- m\n-- Revision ID: m1\n-- Revises: a1, b 2\n-- migrate:upgrade\n-- migrate:downgrade\n", line: 3,
                message: "parent \"b 2\" is not a revision id"),
        BadFile(name: "bad transactional", text: "-- m\n-- Revision ID: m1\n\n-- Transactional: maybe\n-- migrate:upgrade\n-- migrate:downgrade\n",
                line: 4, message: "Transactional: must be yes or no, not \"maybe\""),
        BadFile(name: "SQL before the upgrade marker", text: "-- m\n-- Revision ID: m1\nDROP TABLE scores;\n-- migrate:upgrade\n-- migrate:downgrade\n",
                line: 3, message: "SQL before '-- migrate:upgrade'"),
    ] as [BadFile])
    func malformedFiles(_ bad: BadFile) throws {
        let error = try #require(throws: MigrationFileError.self) {
            try Migration.parse(Array(bad.text.utf8), path: "migrations/bad.sql")
        }
        #expect(error.path == "migrations/bad.sql")
        #expect(error.line == bad.line)
        #expect(error.message == bad.message)
        #expect(error.description == "migrations/bad.sql\(bad.line.map { ":\($0)" } ?? ""): \(bad.message)")
    }

    @Test func invalidUTF8() throws {
        let bytes = Array("-- Revision ID: m1\n-- migrate:upgrade\n".utf8) + [0xFF, 0xFE] + Array("\n-- migrate:downgrade\n".utf8)
        let error = try #require(throws: MigrationFileError.self) { try Migration.parse(bytes, path: "x.sql") }
        #expect(error.description == "x.sql: is not valid UTF-8")
    }

    @Test(arguments: ["a", "183eb85141bf", "Merge_heads_2", String(repeating: "z", count: 32)] as [String])
    func validRevisionIDs(_ id: String) {
        #expect(Migration.isValidRevisionID(id))
    }

    @Test(arguments: ["", "a-b", "a b", "é1", "x;DROP", String(repeating: "z", count: 33)] as [String])
    func invalidRevisionIDs(_ id: String) {
        #expect(!Migration.isValidRevisionID(id))
    }
}
