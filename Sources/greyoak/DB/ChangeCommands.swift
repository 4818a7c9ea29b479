import ArgumentParser
import Foundation
import GreyoakKit

/// Options of the commands that change the database.
struct ChangeOptions: ParsableArguments {
    @Flag(help: "Print the SQL instead of running it; needs no database. Takes [FROM:]TO.") var sql = false
    @Option(name: .customLong("lock-timeout"), help: "Seconds to wait for the schema lock.") var lockTimeout: Double = 60
}

extension DBCommand {
    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upgrade to a later revision (head, heads, an id, +N).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @Argument(help: "Target revision.") var revision: String

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            if change.sql {
                let (from, to) = splitRange(revision) ?? (nil, revision)
                let start = try from.map { try graph.resolve($0, current: []) } ?? []
                let steps = try graph.upgradePlan(from: start, to: try graph.resolve(to ?? "heads", current: start))
                print(OfflineScript.render(steps, createVersionTable: start.isEmpty), terminator: "")
                return
            }
            let migrator = Migrator(graph: graph, connection: try options.connect(logger), logger: logger,
                                    lockTimeout: change.lockTimeout)
            try migrator.upgrade(to: revision)
        }
    }

    struct Downgrade: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revert to an earlier revision (base, an id, -1).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions
        // `.allUnrecognized` lets Alembic's relative form `-1` through as an argument.
        @Argument(parsing: .allUnrecognized, help: "Target revision (base, an id, -1).") var target: [String] = []

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            guard target.count == 1, let revision = target.first else {
                throw GreyoakError(.usage, "downgrade takes exactly one target revision, got \(target.count)")
            }
            if change.sql {
                guard let (from, to) = splitRange(revision), let from else {
                    throw GreyoakError(.usage, "downgrade with --sql requires <fromrev>:<torev>")
                }
                let start = try graph.resolve(from, current: [])
                let steps = try graph.downgradePlan(from: start, to: try graph.resolve(to ?? "base", current: start))
                print(OfflineScript.render(steps, createVersionTable: false), terminator: "")
                return
            }
            let migrator = Migrator(graph: graph, connection: try options.connect(logger), logger: logger,
                                    lockTimeout: change.lockTimeout)
            try migrator.downgrade(to: revision)
        }
    }

    struct Stamp: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the version table to a revision without running migrations.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @Flag(help: "Delete every version row first, even unknown ones.") var purge = false
        @Argument(help: "Target revision.") var revision: String

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            if change.sql {
                let (from, to) = splitRange(revision) ?? (nil, revision)
                let start = try from.map { try graph.resolve($0, current: []) } ?? []
                let changes = graph.stampChanges(from: start, to: try graph.resolve(to ?? "heads", current: start), purge: purge)
                print(OfflineScript.render(stamp: changes, createVersionTable: start.isEmpty), terminator: "")
                return
            }
            let migrator = Migrator(graph: graph, connection: try options.connect(logger), logger: logger,
                                    lockTimeout: change.lockTimeout)
            try migrator.stamp(revision, purge: purge)
        }
    }
}
