import Foundation
import GreyoakPostgres

/// A reviewed migration that greyoak writes on request (`greyoak db revision --recipe NAME`):
/// SQL a person reads and may edit before it runs, chained onto the head of the user's own
/// migrations like any other revision.
///
/// A recipe is files, not code that runs: once written, it is the user's migration, with the
/// checksum, round trip and `db plan` of any other. Some need more than one file, because a
/// step must commit before the next begins (a `VALIDATE` in a transaction of its own, so its
/// scan holds only SHARE UPDATE EXCLUSIVE).
public struct MigrationRecipe: Sendable {
    /// One file of a recipe, in the order they run.
    public struct File: Sendable {
        /// Added to the user's message: `partition scores (1 of 2: …)`.
        public var step: String
        /// `false` writes `-- Transactional: no`: each statement commits on its own.
        public var transactional: Bool
        public var upgrade: String
        public var downgrade: String
    }

    public let name: String
    public let summary: String
    /// Text that only this recipe's SQL holds: a migration that has it in its upgrade is
    /// this recipe, written before.
    let marker: String
    public let files: [File]

    /// Every recipe greyoak knows.
    public static let all: [MigrationRecipe] = [.partitionScores]

    /// The recipe called `name`.
    ///
    /// - Throws: ``GreyoakError`` `.usage` naming the recipes there are.
    public static func named(_ name: String) throws -> MigrationRecipe {
        guard let recipe = all.first(where: { $0.name == name }) else {
            throw GreyoakError(.usage, "no recipe \"\(name)\"; there are: "
                + all.map { "\($0.name) (\($0.summary))" }.joined(separator: ", "))
        }
        return recipe
    }
}

extension MigrationRecipe {
    /// The migration of `graph` that is this recipe already (its first file), if any.
    func writtenBefore(in graph: RevisionGraph) -> Migration? {
        graph.migrations.values.sorted { $0.path < $1.path }.first { migration in
            migration.upgrade.contains { $0.text.contains(marker) }
        }
    }
}

extension MigrationScriptWriter {
    /// Writes a recipe's files, each revising the one before, the first on `parents`.
    ///
    /// - Parameter revision: The id of the last file, the new head (`--rev-id`); the others get fresh ids.
    /// - Returns: The paths written, in the order the files run.
    /// - Throws: As ``write(message:revision:parents:transactional:graph:upgrade:downgrade:now:)``;
    ///   files written before a failure are removed.
    public func write(recipe: MigrationRecipe, message: String, revision: String?, parents: [String],
                      graph: RevisionGraph, now: Date = Date()) throws -> [String] {
        if let earlier = recipe.writtenBefore(in: graph) {
            throw GreyoakError(.usage, "the migrations hold the \(recipe.name) recipe already: \(earlier.path)",
                               hint: "a database upgraded past it has it done; to do it again, write a migration that undoes it first")
        }
        var paths: [String] = []
        var previous = parents
        do {
            for (index, file) in recipe.files.enumerated() {
                let last = index == recipe.files.count - 1
                let id = last ? revision ?? Self.freshID() : Self.freshID()
                let path = try write(message: "\(message) (\(index + 1) of \(recipe.files.count): \(file.step))", revision: id,
                                     parents: previous, transactional: file.transactional, graph: graph,
                                     upgrade: file.upgrade, downgrade: file.downgrade, now: now)
                paths.append(path)
                previous = [id]
            }
        } catch {
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        return paths
    }
}
