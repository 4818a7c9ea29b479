import ArgumentParser
import GreyoakPostgres
import GreyoakMigrations
import GreyoakIngest

extension DBCommand {
    struct Current: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the database's current revision(s).")
        @OptionGroup var options: GlobalOptions
        @Flag(name: .shortAndLong, help: "Print each revision in full.") var verbose = false
        @Flag(name: .customLong("check-heads"), help: "Fail unless the database is at every head.") var checkHeads = false

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            let connection = try options.connect(logger)
            let migrator = Migrator(graph: graph, connection: connection, housekeeping: IngestHousekeeping(), logger: logger)
            let heads = try migrator.currentHeads()
            let formatter = RevisionFormatter(graph: graph)
            if verbose { print("Current revision(s) for \(options.settings):") }
            for id in heads { print(verbose ? formatter.block(id) : formatter.line(id)) }
            if checkHeads { try migrator.requireAtHead() }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List revisions, newest first.")
        @OptionGroup var options: GlobalOptions
        // `.unconditional`: Alembic's relative ranges start with '-' (`-r -2:current`).
        @Option(name: [.short, .customLong("rev-range")], parsing: .unconditional,
                help: "START:END, e.g. base:head, abcd:, -2:current.") var range: String?
        @Flag(name: .shortAndLong, help: "Print each revision in full.") var verbose = false
        @Flag(name: [.short, .customLong("indicate-current")], help: "Mark the database's current revision(s).") var indicateCurrent = false

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            let needsDatabase = indicateCurrent || (range ?? "").contains("current")
                || range.flatMap(splitRange).map { ($0.from ?? "").hasPrefix("-") || ($0.from ?? "").hasPrefix("+") } == true
            let current = needsDatabase
                ? try graph.currentHeads(of: options.connect(logger)) : []
            var selected = Set(graph.loadOrder)
            if let range {
                guard let (from, to) = splitRange(range) else {
                    throw GreyoakError(.usage, "History range requires [start]:[end], [start]:, or :[end]")
                }
                func resolve(_ spec: String) throws -> [String] {
                    spec == "current" ? current : try graph.resolve(spec, current: current)
                }
                if let to { selected = graph.ancestorsOrSelf(try resolve(to)) }
                if let from, from != "base" { selected.formIntersection(graph.descendantsOrSelf(try resolve(from))) }
            }
            let formatter = RevisionFormatter(graph: graph, current: indicateCurrent ? Set(current) : [])
            for id in graph.newestFirst(selected) {
                print(verbose ? formatter.block(id) : formatter.line(id, parents: true, message: true))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the revision(s) a target names, in full.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A revision, unique prefix, head, heads or a relative form.") var revision: String

        func run() throws {
            let graph = try options.graph()
            let formatter = RevisionFormatter(graph: graph)
            let ids = try graph.resolve(revision, current: [])
            if ids.isEmpty { throw GreyoakError(.usage, "'\(revision)' names no revision (base)") }
            for id in ids { print(formatter.block(id)) }
        }
    }

    struct Heads: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the head revision(s) of the migration files.")
        @OptionGroup var options: GlobalOptions
        @Flag(name: .shortAndLong, help: "Print each revision in full.") var verbose = false

        func run() throws {
            let graph = try options.graph()
            let formatter = RevisionFormatter(graph: graph)
            for id in graph.heads { print(verbose ? formatter.block(id) : formatter.line(id, treeIndicators: false)) }
        }
    }

    struct Branches: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the branch points of the revision graph.")
        @OptionGroup var options: GlobalOptions
        @Flag(name: .shortAndLong, help: "Print each revision in full.") var verbose = false

        func run() throws {
            let graph = try options.graph()
            let formatter = RevisionFormatter(graph: graph)
            for id in graph.newestFirst(Set(graph.loadOrder)) where graph.isBranchPoint(id) {
                let indent = String(repeating: " ", count: id.count)
                let children = graph.children[id, default: []].map { "\(indent) -> \(formatter.line($0, message: verbose))" }
                print("\(verbose ? formatter.block(id) : formatter.line(id))\n\(children.joined(separator: "\n"))\n")
            }
        }
    }
}
