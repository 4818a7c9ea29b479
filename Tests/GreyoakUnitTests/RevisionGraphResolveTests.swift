import Testing
import GreyoakPostgres
import GreyoakMigrations

@Suite struct RevisionGraphResolveTests {
    /// 183eb85141bf <- 2b7e0c9d4a11 <- 2b7e99990000 <- 9c1d00000000: two ids share "2b7e".
    static func chain() throws -> RevisionGraph {
        try Fixtures.graph([
            ("183eb85141bf", []), ("2b7e0c9d4a11", ["183eb85141bf"]),
            ("2b7e99990000", ["2b7e0c9d4a11"]), ("9c1d00000000", ["2b7e99990000"]),
        ])
    }

    @Test(arguments: [
        ("head", [String](), ["9c1d00000000"]),
        ("heads", [], ["9c1d00000000"]),
        ("base", ["2b7e0c9d4a11"], []),
        ("2b7e0c9d4a11", [], ["2b7e0c9d4a11"]),
        ("183e", [], ["183eb85141bf"]),
        ("2b7e9", [], ["2b7e99990000"]),
        ("9c1d0", [], ["9c1d00000000"]),
        // relative to the database's current revision
        ("+1", [], ["183eb85141bf"]),
        ("+2", [], ["2b7e0c9d4a11"]),
        ("+1", ["183eb85141bf"], ["2b7e0c9d4a11"]),
        ("+3", ["183eb85141bf"], ["9c1d00000000"]),
        ("-1", ["9c1d00000000"], ["2b7e99990000"]),
        ("-1", ["183eb85141bf"], []),
        ("-4", ["9c1d00000000"], []),
        ("+0", ["2b7e0c9d4a11"], ["2b7e0c9d4a11"]),
        // relative to a named revision
        ("183eb85141bf+1", ["9c1d00000000"], ["2b7e0c9d4a11"]),
        ("183e+2", [], ["2b7e99990000"]),
        ("head-1", [], ["2b7e99990000"]),
        ("head-2", [], ["2b7e0c9d4a11"]),
        ("base+1", ["9c1d00000000"], ["183eb85141bf"]),
        ("base+4", [], ["9c1d00000000"]),
        ("9c1d00000000-3", [], ["183eb85141bf"]),
    ] as [(String, [String], [String])])
    func resolves(_ spec: String, _ current: [String], _ expected: [String]) throws {
        #expect(try Self.chain().resolve(spec, current: current) == expected)
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        let spec: String
        var current: [String] = []
        let code: GreyoakError.Code
        let message: String
        var testDescription: String { "\(spec) from \(current)" }
    }

    @Test(arguments: [
        Failure(spec: "2b7e", code: .usage, message: "Multiple revisions start with '2b7e': 2b7e0c9d4a11, 2b7e99990000"),
        Failure(spec: "ffff", code: .usage, message: "Can't locate revision identified by 'ffff'"),
        Failure(spec: "183", code: .usage, message: "Can't locate revision identified by '183'"),
        Failure(spec: "+5", code: .usage, message: "Relative revision +5 didn't produce 5 migrations"),
        Failure(spec: "+1", current: ["9c1d00000000"], code: .usage, message: "Relative revision +1 didn't produce 1 migrations"),
        Failure(spec: "-1", code: .usage, message: "Relative revision -1 didn't produce 1 migrations"),
        Failure(spec: "-5", current: ["9c1d00000000"], code: .usage, message: "Relative revision -5 didn't produce 5 migrations"),
        Failure(spec: "head+1", code: .usage, message: "Relative revision head+1 didn't produce 1 migrations"),
        Failure(spec: "abcd+1", code: .usage, message: "Can't locate revision identified by 'abcd'"),
    ] as [Failure])
    func failures(_ failure: Failure) throws {
        let error = try #require(throws: GreyoakError.self) { try Self.chain().resolve(failure.spec, current: failure.current) }
        #expect(error.code == failure.code)
        #expect(error.message == failure.message)
    }

    @Test func tooShortPrefixSaysHowLongAPrefixMustBe() throws {
        let error = try #require(throws: GreyoakError.self) { try Self.chain().resolve("183", current: []) }
        #expect(error.hint?.contains("at least 4 characters") == true)
    }

    @Test func shortFullIDIsNotAPrefix() throws {
        // Ids shorter than 4 characters still resolve when given in full.
        let graph = try Fixtures.linear()
        #expect(try graph.resolve("b2", current: []) == ["b2"])
        #expect(try graph.resolve("b2+1", current: []) == ["c3"])
    }

    // MARK: - Several heads, branch points, merge points

    @Test func headWithSeveralHeads() throws {
        let graph = try Fixtures.branched()
        #expect(try graph.resolve("heads", current: []) == ["a2", "b1"])
        let error = try #require(throws: GreyoakError.self) { try graph.resolve("head", current: []) }
        #expect(error.code == .multipleHeads)
        #expect(error.message == "Multiple head revisions are present for given argument 'head': a2, b1")
        #expect(error.hint?.contains("'heads'") == true)
    }

    @Test(arguments: [
        ("+1", ["r1"], "Relative revision +1 is ambiguous: r1 branches into a1, b1"),
        ("r1+1", [], "Relative revision r1+1 is ambiguous: r1 branches into a1, b1"),
        ("+1", ["a2", "b1"], "Relative revision +1 needs a single current head; the database is at a2, b1"),
        ("-1", ["a2", "b1"], "Relative revision -1 needs a single current head; the database is at a2, b1"),
    ] as [(String, [String], String)])
    func ambiguousAtABranchPoint(_ spec: String, _ current: [String], _ message: String) throws {
        let error = try #require(throws: GreyoakError.self) { try Fixtures.branched().resolve(spec, current: current) }
        #expect(error.code == .multipleHeads)
        #expect(error.message == message)
    }

    @Test func ambiguousBelowAMergePoint() throws {
        let graph = try Fixtures.merged()
        let error = try #require(throws: GreyoakError.self) { try graph.resolve("-1", current: ["m1"]) }
        #expect(error.code == .multipleHeads)
        #expect(error.message == "Relative revision -1 is ambiguous: m1 merges a2, b1")
        #expect(try graph.resolve("z9-1", current: []) == ["m1"])
        #expect(try graph.resolve("a1+2", current: []) == ["m1"])
        #expect(try graph.resolve("+1", current: ["a1"]) == ["a2"])
    }

    @Test func plusOneFromBaseWithTwoBasesIsAmbiguous() throws {
        let graph = try Fixtures.graph([("p1", []), ("q1", [])])
        let error = try #require(throws: GreyoakError.self) { try graph.resolve("+1", current: []) }
        #expect(error.message == "Relative revision +1 is ambiguous: <base> branches into p1, q1")
    }

    @Test func noMigrations() throws {
        let graph = try RevisionGraph(directory: "/virtual", migrations: [])
        let error = try #require(throws: GreyoakError.self) { try graph.resolve("head", current: []) }
        #expect(error.message == "There are no migrations")
        #expect(try graph.resolve("heads", current: []) == [])
    }
}
