import Testing
import GreyoakMigrations

@Suite struct RevisionFormatterTests {
    static func initial() throws -> RevisionGraph {
        try RevisionGraph(directory: "/virtual", migrations: [
            Fixtures.migration("183eb85141bf", message: "Initial schema with scores table"),
        ])
    }

    /// a1 and b2 are bases merged by c3 ("merge heads").
    static func mergeOfTwoBases() throws -> RevisionGraph {
        try RevisionGraph(directory: "/virtual", migrations: [
            Fixtures.migration("a1", message: "first"), Fixtures.migration("b2", message: "second"),
            Fixtures.migration("c3", parents: ["a1", "b2"], message: "merge heads"),
        ])
    }

    static func branchPoint() throws -> RevisionGraph {
        try RevisionGraph(directory: "/virtual", migrations: [
            Fixtures.migration("r1", message: "root"), Fixtures.migration("a1", parents: ["r1"], message: "left"),
            Fixtures.migration("b1", parents: ["r1"], message: "right"),
        ])
    }

    @Test func historyLineOfTheInitialRevision() throws {
        let formatter = RevisionFormatter(graph: try Self.initial())
        #expect(formatter.line("183eb85141bf", parents: true, message: true)
            == "<base> -> 183eb85141bf (head), Initial schema with scores table")
        #expect(formatter.line("183eb85141bf") == "183eb85141bf (head)")
        #expect(formatter.parentsText("183eb85141bf") == "<base>")
    }

    @Test func historyLineOfAMergePoint() throws {
        let formatter = RevisionFormatter(graph: try Self.mergeOfTwoBases())
        #expect(formatter.line("c3", parents: true, message: true) == "a1, b2 -> c3 (head) (mergepoint), merge heads")
        #expect(formatter.line("a1", parents: true, message: true) == "<base> -> a1, first")
        #expect(formatter.line("c3", treeIndicators: false) == "c3 (head)")
    }

    @Test func historyLineOfABranchPoint() throws {
        let formatter = RevisionFormatter(graph: try Self.branchPoint())
        #expect(formatter.line("r1", parents: true, message: true) == "<base> -> r1 (branchpoint), root")
        #expect(formatter.line("r1", treeIndicators: false) == "r1")
        #expect(formatter.line("b1", parents: true, message: true) == "r1 -> b1 (head), right")
    }

    /// Alembic's suffix order: (head), (current), then (branchpoint), (mergepoint).
    @Test func currentMarkerOrder() throws {
        let branched = RevisionFormatter(graph: try Self.branchPoint(), current: ["r1", "a1"])
        #expect(branched.line("r1", parents: true, message: true) == "<base> -> r1 (current) (branchpoint), root")
        #expect(branched.line("a1", parents: true, message: true) == "r1 -> a1 (head) (current), left")
        #expect(branched.line("b1", parents: true, message: true) == "r1 -> b1 (head), right")
        let merged = RevisionFormatter(graph: try Self.mergeOfTwoBases(), current: ["c3"])
        #expect(merged.line("c3", parents: true, message: true) == "a1, b2 -> c3 (head) (current) (mergepoint), merge heads")
    }

    @Test func verboseBlockOfTheInitialRevision() throws {
        let formatter = RevisionFormatter(graph: try Self.initial())
        #expect(formatter.block("183eb85141bf") == """
            Rev: 183eb85141bf (head)
            Parent: <base>
            Path: /virtual/183eb85141bf.sql

                Initial schema with scores table
                \("")
                Revision ID: 183eb85141bf
                Revises:
                Create Date: 2025-11-02 09:15:00.000000

            """)
    }

    @Test func verboseBlockOfAMergePoint() throws {
        let formatter = RevisionFormatter(graph: try Self.mergeOfTwoBases(), current: ["c3"])
        #expect(formatter.block("c3") == """
            Rev: c3 (head) (mergepoint) (current)
            Merges: a1, b2
            Path: /virtual/c3.sql

                merge heads
                \("")
                Revision ID: c3
                Revises: a1, b2
                Create Date: 2025-11-02 09:15:00.000000

            """)
    }

    @Test func verboseBlockOfABranchPoint() throws {
        let formatter = RevisionFormatter(graph: try Self.branchPoint())
        let block = formatter.block("r1")
        #expect(block.hasPrefix("Rev: r1 (branchpoint)\nParent: <base>\nBranches into: a1, b1\nPath: /virtual/r1.sql\n\n    root\n"))
        #expect(formatter.block("a1").hasPrefix("Rev: a1 (head)\nParent: r1\nPath: /virtual/a1.sql\n\n    left\n"))
    }
}
