import Foundation
import GreyoakMigrations

/// Migration files and graphs built in memory, in the file format of `migrations/`.
enum Fixtures {
    /// The text of a migration file with Alembic's docstring header.
    static func text(
        _ id: String, parents: [String] = [], message: String? = nil, transactional: Bool? = nil,
        upgrade: String = "SELECT 1;", downgrade: String = "SELECT 1;"
    ) -> String {
        var header = """
            -- \(message ?? "revision \(id)")
            --
            -- Revision ID: \(id)
            -- Revises: \(parents.joined(separator: ", "))
            -- Create Date: 2025-11-02 09:15:00.000000

            """
        if let transactional { header += "-- Transactional: \(transactional ? "yes" : "no")\n" }
        return header + "\n-- migrate:upgrade\n\(upgrade)\n\n-- migrate:downgrade\n\(downgrade)\n"
    }

    static func migration(
        _ id: String, parents: [String] = [], message: String? = nil, transactional: Bool? = nil,
        upgrade: String = "SELECT 1;", downgrade: String = "SELECT 1;"
    ) throws -> Migration {
        let text = text(id, parents: parents, message: message, transactional: transactional,
                        upgrade: upgrade, downgrade: downgrade)
        return try Migration.parse(Array(text.utf8), path: "/virtual/\(id).sql")
    }

    /// A graph whose load order is the order of `spec`.
    static func graph(_ spec: [(String, [String])]) throws -> RevisionGraph {
        try RevisionGraph(directory: "/virtual", migrations: spec.map { try migration($0.0, parents: $0.1) })
    }

    /// a1 <- b2 <- c3
    static func linear() throws -> RevisionGraph {
        try graph([("a1", []), ("b2", ["a1"]), ("c3", ["b2"])])
    }

    /// r1 <- a1 <- a2, r1 <- b1: branch point r1, heads a2 and b1.
    static func branched() throws -> RevisionGraph {
        try graph([("r1", []), ("a1", ["r1"]), ("a2", ["a1"]), ("b1", ["r1"])])
    }

    /// `branched` merged again: (a2, b1) <- m1 <- z9.
    static func merged() throws -> RevisionGraph {
        try graph([("r1", []), ("a1", ["r1"]), ("a2", ["a1"]), ("b1", ["r1"]), ("m1", ["a2", "b1"]), ("z9", ["m1"])])
    }

    /// The repository's own migrations directory.
    static func repositoryMigrations() -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Support, GreyoakUnitTests, Tests, repo
        return url.appendingPathComponent("migrations").path
    }
}
