import Foundation
import Testing
import GreyoakMigrations

@Suite struct RevisionGraphTests {
    // MARK: - Errors

    @Test func duplicateRevisionID() throws {
        let first = try Fixtures.migration("a1")
        let second = try Migration.parse(Array(Fixtures.text("a1", message: "again").utf8), path: "/virtual/a1_again.sql")
        let error = try #require(throws: MigrationFileError.self) {
            try RevisionGraph(directory: "/virtual", migrations: [first, second])
        }
        #expect(error.description == "/virtual/a1_again.sql: revision a1 is also defined in a1.sql")
    }

    @Test func unknownParent() throws {
        let error = try #require(throws: MigrationFileError.self) {
            try Fixtures.graph([("a1", []), ("b2", ["a1", "zz9"])])
        }
        #expect(error.description == "/virtual/b2.sql: revises zz9, which no migration file defines")
    }

    @Test(arguments: [
        ([("a1", ["b1"]), ("b1", ["a1"])], "/virtual/a1.sql: revisions form a cycle: a1 -> b1 -> a1"),
        ([("a1", ["a1"])], "/virtual/a1.sql: revisions form a cycle: a1 -> a1"),
        ([("r1", []), ("a1", ["r1", "c1"]), ("b1", ["a1"]), ("c1", ["b1"])],
         "/virtual/a1.sql: revisions form a cycle: a1 -> c1 -> b1 -> a1"),
    ] as [([(String, [String])], String)])
    func cycles(_ spec: [(String, [String])], _ description: String) throws {
        let error = try #require(throws: MigrationFileError.self) { try Fixtures.graph(spec) }
        #expect(error.description == description)
    }

    @Test func directoryThatDoesNotExist() throws {
        let error = try #require(throws: MigrationFileError.self) {
            try RevisionGraph(directory: "/nonexistent/greyoak-migrations")
        }
        #expect(error.description.hasPrefix("/nonexistent/greyoak-migrations: is not a directory of migrations"))
    }

    @Test func directoryReadsOnlySQLFilesInNameOrder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-unit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Fixtures.text("b2", parents: ["a1"]).write(toFile: directory + "/002_b.sql", atomically: true, encoding: .utf8)
        try Fixtures.text("a1").write(toFile: directory + "/001_a.sql", atomically: true, encoding: .utf8)
        try "not a migration".write(toFile: directory + "/README", atomically: true, encoding: .utf8)
        try "-- migrate:upgrade\n".write(toFile: directory + "/script.sql.template", atomically: true, encoding: .utf8)

        let graph = try RevisionGraph(directory: directory)
        #expect(graph.loadOrder == ["a1", "b2"])
        #expect(graph.migrations["b2"]?.path == directory + "/002_b.sql")
    }

    @Test func malformedFileInDirectoryNamesIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-unit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "-- m\n-- Revision ID: a-1\n-- migrate:upgrade\n-- migrate:downgrade\n"
            .write(toFile: directory + "/bad.sql", atomically: true, encoding: .utf8)
        let error = try #require(throws: MigrationFileError.self) { try RevisionGraph(directory: directory) }
        #expect(error.path == directory + "/bad.sql")
        #expect(error.line == 2)
    }

    // MARK: - Shape

    @Test func shapeOfALinearGraph() throws {
        let graph = try Fixtures.linear()
        #expect(graph.heads == ["c3"])
        #expect(graph.bases == ["a1"])
        #expect(graph.children["a1"] == ["b2"])
        #expect(!graph.isBranchPoint("a1"))
        #expect(!graph.isMergePoint("c3"))
        #expect(graph.isHead("c3") && !graph.isHead("b2"))
    }

    @Test func shapeOfABranchedGraph() throws {
        let graph = try Fixtures.branched()
        #expect(graph.heads == ["a2", "b1"])
        #expect(graph.bases == ["r1"])
        #expect(graph.isBranchPoint("r1"))
        #expect(graph.children["r1"] == ["a1", "b1"])
        #expect(["a1", "a2", "b1"].allSatisfy { !graph.isBranchPoint($0) })
        #expect(graph.loadOrder.allSatisfy { !graph.isMergePoint($0) })
    }

    @Test func shapeOfAMergedGraph() throws {
        let graph = try Fixtures.merged()
        #expect(graph.heads == ["z9"])
        #expect(graph.isMergePoint("m1"))
        #expect(graph.parents(of: "m1") == ["a2", "b1"])
        #expect(graph.isBranchPoint("r1"))
        #expect(graph.ancestorsOrSelf(["a2"]) == ["a2", "a1", "r1"])
        #expect(graph.descendantsOrSelf(["b1"]) == ["b1", "m1", "z9"])
    }

    @Test func twoBases() throws {
        let graph = try Fixtures.graph([("p1", []), ("p2", ["p1"]), ("q1", []), ("q2", ["q1"])])
        #expect(graph.bases == ["p1", "q1"])
        #expect(graph.heads == ["p2", "q2"])
    }

    // MARK: - newestFirst, checked against Alembic 1.20's `_topological_sort` on the same graphs

    @Test(arguments: [
        ([("a1", []), ("b2", ["a1"]), ("c3", ["b2"])], ["c3", "b2", "a1"]),
        ([("r1", []), ("a1", ["r1"]), ("a2", ["a1"]), ("b1", ["r1"])], ["a2", "a1", "b1", "r1"]),
        ([("r1", []), ("a1", ["r1"]), ("a2", ["a1"]), ("b1", ["r1"]), ("m1", ["a2", "b1"]), ("z9", ["m1"])],
         ["z9", "m1", "a2", "a1", "b1", "r1"]),
        ([("p1", []), ("p2", ["p1"]), ("q1", []), ("q2", ["q1"])], ["p2", "p1", "q2", "q1"]),
        ([("b1", ["r1"]), ("a2", ["a1"]), ("r1", []), ("a1", ["r1"])], ["b1", "a2", "a1", "r1"]),
        ([("m1", ["a2", "b1"]), ("b1", ["r1"]), ("a1", ["r1"]), ("r1", []), ("a2", ["a1"])], ["m1", "a2", "a1", "b1", "r1"]),
    ] as [([(String, [String])], [String])])
    func newestFirstLikeAlembic(_ spec: [(String, [String])], _ order: [String]) throws {
        let graph = try Fixtures.graph(spec)
        #expect(graph.newestFirst(Set(graph.loadOrder)) == order)
    }

    @Test func newestFirstOfASubset() throws {
        let graph = try Fixtures.merged()
        // alembic history -r b1:z9
        #expect(graph.newestFirst(["z9", "m1", "b1"]) == ["z9", "m1", "b1"])
        #expect(graph.newestFirst(["a1", "a2"]) == ["a2", "a1"])
        #expect(graph.newestFirst([]) == [])
    }
}
