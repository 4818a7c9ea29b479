import Foundation
import Testing

/// A temporary directory of migration files for one test, removed by ``remove()``.
package struct MigrationsDirectory: Sendable {
    package let path: String

    /// The repository's `migrations/`.
    package static func repository() -> String {
        IngestRepo.migrations
    }

    package static let initialRevision = "183eb85141bf"
    package static let initialFile = "183eb85141bf_initial_schema_with_scores_table.sql"

    /// An empty directory.
    package init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-migrations-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A copy of the repository's `migrations/*.sql`.
    package static func copyOfRepository() throws -> MigrationsDirectory {
        let directory = try MigrationsDirectory()
        let source = repository()
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where name.hasSuffix(".sql") {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: directory.path + "/" + name)
        }
        return directory
    }

    package func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `<id>_<slug>.sql` (or `file`) in the project's format and returns its path.
    @discardableResult
    package func write(
        _ id: String, parents: [String] = [], message: String? = nil, transactional: Bool = true,
        header: [String] = [], upgrade: String, downgrade: String = "", file: String? = nil
    ) throws -> String {
        let message = message ?? "revision \(id)"
        var text = """
            -- \(message)
            --
            -- Revision ID: \(id)
            -- Revises: \(parents.joined(separator: ", "))
            -- Create Date: 2025-11-02 09:15:00.000000

            """
        if !transactional { text += "-- Transactional: no\n" }
        for line in header { text += "-- \(line)\n" }
        text += "\n-- migrate:upgrade\n\(upgrade)\n\n-- migrate:downgrade\n\(downgrade)\n"
        let name = file ?? "\(id)_\(message.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: "_")).sql"
        let path = self.path + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A linear chain on top of the initial revision: a table, then a column.
    ///
    ///     183eb85141bf <- 2b7e0c9d4a11 (add confidence) <- 3c8f1d2e5b22 (audit notes table)
    package static func linearChain() throws -> MigrationsDirectory {
        let directory = try copyOfRepository()
        try directory.write("2b7e0c9d4a11", parents: [initialRevision], message: "Add confidence column",
                            upgrade: "ALTER TABLE scores ADD COLUMN confidence FLOAT;",
                            downgrade: "ALTER TABLE scores DROP COLUMN confidence;")
        try directory.write("3c8f1d2e5b22", parents: ["2b7e0c9d4a11"], message: "Notes table",
                            upgrade: "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);",
                            downgrade: "DROP TABLE notes;")
        return directory
    }

    /// A branch and its merge, each revision making one table:
    ///
    ///     aa0000000001 <- bb0000000001 <- bb0000000002
    ///                  <- cc0000000001
    ///     (bb0000000002, cc0000000001) <- dd0000000001 (merge)
    package static func branchAndMerge(merged: Bool = true) throws -> MigrationsDirectory {
        let directory = try MigrationsDirectory()
        try directory.write("aa0000000001", message: "root", upgrade: "CREATE TABLE t_root (id INT);", downgrade: "DROP TABLE t_root;")
        try directory.write("bb0000000001", parents: ["aa0000000001"], message: "left one",
                            upgrade: "CREATE TABLE t_left1 (id INT);", downgrade: "DROP TABLE t_left1;")
        try directory.write("bb0000000002", parents: ["bb0000000001"], message: "left two",
                            upgrade: "CREATE TABLE t_left2 (id INT);", downgrade: "DROP TABLE t_left2;")
        try directory.write("cc0000000001", parents: ["aa0000000001"], message: "right one",
                            upgrade: "CREATE TABLE t_right1 (id INT);", downgrade: "DROP TABLE t_right1;")
        if merged {
            try directory.write("dd0000000001", parents: ["bb0000000002", "cc0000000001"], message: "merge heads",
                                upgrade: "CREATE TABLE t_merged (id INT);", downgrade: "DROP TABLE t_merged;")
        }
        return directory
    }
}
