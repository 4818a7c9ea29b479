import Testing
import GreyoakPostgres
import GreyoakMigrations

/// Version-table changes of upgrade, downgrade and stamp plans. The expected steps were
/// produced by Alembic 1.20's `HeadMaintainer` on the same graphs.
@Suite struct MigrationPlanTests {
    /// One step as (revision, its version changes, the heads after it, sorted).
    struct Step: Equatable, CustomStringConvertible {
        let revision: String
        let changes: [VersionChange]
        let headsAfter: [String]
        init(_ revision: String, _ changes: [VersionChange], _ headsAfter: [String]) {
            self.revision = revision
            self.changes = changes
            self.headsAfter = headsAfter
        }
        var description: String { "\(revision): \(changes.map(\.sql)) -> \(headsAfter)" }
    }

    static func steps(_ plan: [MigrationStep]) -> [Step] {
        plan.map { Step($0.migration.revision, $0.versionChanges, $0.headsAfter.sorted()) }
    }

    // MARK: - Upgrade

    @Test func linearUpgradeInsertsThenUpdates() throws {
        let plan = try Fixtures.linear().upgradePlan(from: [], to: ["c3"])
        #expect(Self.steps(plan) == [
            Step("a1", [.insert("a1")], ["a1"]),
            Step("b2", [.update(from: "a1", to: "b2")], ["b2"]),
            Step("c3", [.update(from: "b2", to: "c3")], ["c3"]),
        ])
        #expect(plan.allSatisfy { $0.isUpgrade })
        #expect(plan.map(\.headsBefore) == [[], ["a1"], ["b2"]])
    }

    @Test func linearUpgradeFromTheMiddle() throws {
        let plan = try Fixtures.linear().upgradePlan(from: ["a1"], to: ["c3"])
        #expect(Self.steps(plan) == [
            Step("b2", [.update(from: "a1", to: "b2")], ["b2"]),
            Step("c3", [.update(from: "b2", to: "c3")], ["c3"]),
        ])
    }

    @Test func upgradeToTheCurrentRevisionDoesNothing() throws {
        #expect(try Fixtures.linear().upgradePlan(from: ["c3"], to: ["c3"]).isEmpty)
    }

    @Test func upgradeToARevisionBelowIsAnError() throws {
        let error = try #require(throws: GreyoakError.self) { try Fixtures.linear().upgradePlan(from: ["c3"], to: ["a1"]) }
        #expect(error.code == .usage)
        #expect(error.message == "Destination a1 is not a valid upgrade target from current head(s) c3")
    }

    @Test func branchedUpgradeInsertsTheSecondBranch() throws {
        let plan = try Fixtures.branched().upgradePlan(from: [], to: ["a2", "b1"])
        #expect(Self.steps(plan) == [
            Step("r1", [.insert("r1")], ["r1"]),
            Step("b1", [.update(from: "r1", to: "b1")], ["b1"]),
            Step("a1", [.insert("a1")], ["a1", "b1"]),
            Step("a2", [.update(from: "a1", to: "a2")], ["a2", "b1"]),
        ])
    }

    @Test func upgradeOtherBranchKeepsTheFirst() throws {
        let plan = try Fixtures.branched().upgradePlan(from: ["a2"], to: ["b1"])
        #expect(Self.steps(plan) == [Step("b1", [.insert("b1")], ["a2", "b1"])])
    }

    @Test func mergeDeletesOneParentAndUpdatesTheOther() throws {
        let plan = try Fixtures.merged().upgradePlan(from: [], to: ["z9"])
        #expect(Self.steps(plan) == [
            Step("r1", [.insert("r1")], ["r1"]),
            Step("b1", [.update(from: "r1", to: "b1")], ["b1"]),
            Step("a1", [.insert("a1")], ["a1", "b1"]),
            Step("a2", [.update(from: "a1", to: "a2")], ["a2", "b1"]),
            Step("m1", [.delete("a2"), .update(from: "b1", to: "m1")], ["m1"]),
            Step("z9", [.update(from: "m1", to: "z9")], ["z9"]),
        ])
    }

    @Test func mergeFromBothHeads() throws {
        let plan = try Fixtures.merged().upgradePlan(from: ["a2", "b1"], to: ["m1"])
        #expect(Self.steps(plan) == [Step("m1", [.delete("a2"), .update(from: "b1", to: "m1")], ["m1"])])
    }

    @Test func mergeWhenOnlyOneParentIsApplied() throws {
        let plan = try Fixtures.merged().upgradePlan(from: ["a1"], to: ["m1"])
        #expect(Self.steps(plan) == [
            Step("b1", [.insert("b1")], ["a1", "b1"]),
            Step("a2", [.update(from: "a1", to: "a2")], ["a2", "b1"]),
            Step("m1", [.delete("a2"), .update(from: "b1", to: "m1")], ["m1"]),
        ])
    }

    @Test func twoBasesAreTwoInsertedBranches() throws {
        let graph = try Fixtures.graph([("p1", []), ("p2", ["p1"]), ("q1", []), ("q2", ["q1"])])
        let plan = try graph.upgradePlan(from: [], to: graph.heads)
        #expect(Self.steps(plan) == [
            Step("q1", [.insert("q1")], ["q1"]),
            Step("q2", [.update(from: "q1", to: "q2")], ["q2"]),
            Step("p1", [.insert("p1")], ["p1", "q2"]),
            Step("p2", [.update(from: "p1", to: "p2")], ["p2", "q2"]),
        ])
    }

    // MARK: - Downgrade

    @Test func linearDowngradeToBaseDeletesTheLastRow() throws {
        let plan = try Fixtures.linear().downgradePlan(from: ["c3"], to: [])
        #expect(Self.steps(plan) == [
            Step("c3", [.update(from: "c3", to: "b2")], ["b2"]),
            Step("b2", [.update(from: "b2", to: "a1")], ["a1"]),
            Step("a1", [.delete("a1")], []),
        ])
        #expect(plan.allSatisfy { !$0.isUpgrade })
    }

    @Test func downgradeToTheCurrentRevisionDoesNothing() throws {
        #expect(try Fixtures.linear().downgradePlan(from: ["b2"], to: ["b2"]).isEmpty)
    }

    @Test(arguments: [([String](), "<base>"), (["a1"], "a1")] as [([String], String)])
    func downgradeToARevisionAboveIsAnError(_ current: [String], _ shown: String) throws {
        let error = try #require(throws: GreyoakError.self) { try Fixtures.linear().downgradePlan(from: current, to: ["c3"]) }
        #expect(error.code == .usage)
        #expect(error.message == "Destination c3 is not a valid downgrade target from current head(s) \(shown)")
    }

    @Test func downgradeOneBranchLeavesTheOtherBranch() throws {
        let plan = try Fixtures.branched().downgradePlan(from: ["a2", "b1"], to: ["a1"])
        #expect(Self.steps(plan) == [Step("a2", [.update(from: "a2", to: "a1")], ["a1", "b1"])])
    }

    @Test func downgradeToTheBranchPointDeletesOneBranchAndUpdatesTheOther() throws {
        let plan = try Fixtures.branched().downgradePlan(from: ["a2", "b1"], to: ["r1"])
        #expect(Self.steps(plan) == [
            Step("a2", [.update(from: "a2", to: "a1")], ["a1", "b1"]),
            Step("a1", [.delete("a1")], ["b1"]),
            Step("b1", [.update(from: "b1", to: "r1")], ["r1"]),
        ])
    }

    @Test func branchedDowngradeToBase() throws {
        let plan = try Fixtures.branched().downgradePlan(from: ["a2", "b1"], to: [])
        #expect(Self.steps(plan) == [
            Step("a2", [.update(from: "a2", to: "a1")], ["a1", "b1"]),
            Step("a1", [.delete("a1")], ["b1"]),
            Step("b1", [.update(from: "b1", to: "r1")], ["r1"]),
            Step("r1", [.delete("r1")], []),
        ])
    }

    /// Unmerging UPDATEs the merge row to one parent and INSERTs the others. Alembic emits the
    /// INSERT first; the end state is the same either way, so the order is not asserted.
    @Test func unmergeRestoresBothParents() throws {
        let plan = try Fixtures.merged().downgradePlan(from: ["z9"], to: ["b1"])
        #expect(plan.map(\.migration.revision) == ["z9", "m1"])
        #expect(plan[0].versionChanges == [.update(from: "z9", to: "m1")])
        let unmerge = plan[1].versionChanges
        #expect(unmerge.count == 2)
        #expect(unmerge.contains(.update(from: "m1", to: "b1")))
        #expect(unmerge.contains(.insert("a2")))
        #expect(plan[1].headsAfter.sorted() == ["a2", "b1"])
    }

    @Test func mergedDowngradeToBase() throws {
        let plan = try Fixtures.merged().downgradePlan(from: ["z9"], to: [])
        #expect(plan.map(\.migration.revision) == ["z9", "m1", "a2", "a1", "b1", "r1"])
        #expect(Self.steps(Array(plan.dropFirst(2))) == [
            Step("a2", [.update(from: "a2", to: "a1")], ["a1", "b1"]),
            Step("a1", [.delete("a1")], ["b1"]),
            Step("b1", [.update(from: "b1", to: "r1")], ["r1"]),
            Step("r1", [.delete("r1")], []),
        ])
    }

    // MARK: - Stamp

    @Test(arguments: [
        ([String](), ["c3"], false, [VersionChange.insert("c3")]),
        (["a1"], ["c3"], false, [.update(from: "a1", to: "c3")]),
        (["c3"], ["a1"], false, [.update(from: "c3", to: "a1")]),
        (["c3"], [], false, [.delete("c3")]),
        (["c3"], ["c3"], false, []),
        (["c3"], ["c3"], true, [.delete("c3"), .insert("c3")]),
        (["deadbeef0000"], ["c3"], true, [.delete("deadbeef0000"), .insert("c3")]),
        (["deadbeef0000", "b2"], [], true, [.delete("deadbeef0000"), .delete("b2")]),
        ([], [], true, []),
    ] as [([String], [String], Bool, [VersionChange])])
    func stampOnALine(_ current: [String], _ targets: [String], _ purge: Bool, _ changes: [VersionChange]) throws {
        #expect(try Fixtures.linear().stampChanges(from: current, to: targets, purge: purge) == changes)
    }

    @Test func stampAnUnrelatedBranchInserts() throws {
        #expect(try Fixtures.branched().stampChanges(from: ["a2"], to: ["b1"], purge: false) == [.insert("b1")])
    }

    @Test func stampHeadsFromBase() throws {
        #expect(try Fixtures.branched().stampChanges(from: [], to: ["a2", "b1"], purge: false) == [.insert("a2"), .insert("b1")])
    }

    @Test func stampAMergeFromBothParentsLeavesOneRow() throws {
        let changes = try Fixtures.merged().stampChanges(from: ["a2", "b1"], to: ["m1"], purge: false)
        #expect(changes.count == 2)
        var heads = ["a2", "b1"]
        changes.forEach { $0.apply(to: &heads) }
        #expect(heads == ["m1"])
    }

    // MARK: - SQL

    @Test func versionChangeSQLIsAlembics() {
        #expect(VersionChange.insert("183eb85141bf").sql == "INSERT INTO alembic_version (version_num) VALUES ('183eb85141bf')")
        #expect(VersionChange.delete("183eb85141bf").sql == "DELETE FROM alembic_version WHERE alembic_version.version_num = '183eb85141bf'")
        #expect(VersionChange.update(from: "a1", to: "b2").sql == "UPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1'")
    }
}
