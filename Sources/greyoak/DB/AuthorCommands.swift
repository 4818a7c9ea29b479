import ArgumentParser
import GreyoakPostgres
import GreyoakMigrations

extension DBCommand {
    struct Revision: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new migration file on top of the head.")
        @OptionGroup var options: GlobalOptions
        @Option(name: .shortAndLong, help: "The message.") var message: String
        @Option(help: "The revision to build on (default: the single head; 'base' starts a new branch).") var head: String?
        @Option(name: .customLong("rev-id"), help: "Use this id instead of a fresh one.") var revID: String?
        @Flag(name: .customLong("non-transactional"), help: "Mark the file to run outside a transaction.") var nonTransactional = false
        @Flag(help: "Write the SQL that turns what the migrations build into the live schema (or --from-schema's).")
        var autogenerate = false
        @Option(name: .customLong("from-schema"), help: "With --autogenerate: take the desired schema from this SQL file, not the live database.")
        var fromSchema: String?
        @Option(name: .customLong("dev-url"), help: "With --autogenerate: a database greyoak may wipe, to replay into when the role cannot create databases.")
        var devURL: String?
        @Option(name: .customLong("schema"), help: "With --autogenerate: manage this schema (repeatable; default: the current one, public).")
        var schemas: [String] = []
        @Option(help: "Write a reviewed migration greyoak knows (one or more files) instead of an empty one: \(MigrationRecipe.all.map(\.name).joined(separator: ", ")).")
        var recipe: String?

        func run() throws {
            let graph = try options.graph()
            let parents: [String]
            if let head {
                parents = try graph.resolve(head, current: [])
            } else if graph.heads.count > 1 {
                throw GreyoakError(.multipleHeads,
                                   "Multiple heads are present; please specify the head revision on which the new revision should be based, or perform a merge.",
                                   hint: "heads: \(graph.heads.joined(separator: ", "))")
            } else {
                parents = graph.heads
            }
            if let recipe {
                guard !autogenerate, !nonTransactional, fromSchema == nil, devURL == nil else {
                    throw GreyoakError(.usage, "--recipe writes its own SQL and transaction settings: it takes no --autogenerate, --non-transactional, --from-schema or --dev-url")
                }
                let paths = try MigrationScriptWriter(directory: options.migrationsDirectory)
                    .write(recipe: try MigrationRecipe.named(recipe), message: message, revision: revID, parents: parents, graph: graph)
                for path in paths { print("Generating \(path) ...  done") }
                return
            }
            var (upgrade, downgrade) = ("", "")
            if autogenerate {
                let logger = options.logger("greyoak.autogenerate")
                let result = try Autogenerator(graph: graph, connection: try options.connect(logger),
                                               devURL: devURL.map { ConnectionSettings(url: $0) },
                                               schemas: schemas.isEmpty ? nil : schemas, logger: logger)
                    .generate(parents: parents, schemaFile: fromSchema)
                let source = fromSchema ?? "the live database"
                for warning in result.warnings { logger.warning("\(warning)") }
                guard !result.isEmpty else {
                    let at = parents.isEmpty ? "base" : parents.joined(separator: ", ")
                    print(result.warnings.isEmpty
                        ? "No changes: \(source) matches what the migrations build at \(at); no file written"
                        : "No changes greyoak can write: \(source) differs from what the migrations build at \(at) only in what it does not generate (above); no file written")
                    return
                }
                upgrade = Autogenerator.render(result.upgrade, source: source, replayedIn: result.replayedIn)
                downgrade = Autogenerator.render(result.downgrade, source: source, replayedIn: result.replayedIn)
            } else if fromSchema != nil {
                throw GreyoakError(.usage, "--from-schema works with --autogenerate only")
            } else if devURL != nil {
                throw GreyoakError(.usage, "--dev-url works with --autogenerate only")
            } else if !schemas.isEmpty {
                throw GreyoakError(.usage, "--schema works with --autogenerate only")
            }
            let path = try MigrationScriptWriter(directory: options.migrationsDirectory)
                .write(message: message, revision: revID, parents: parents, transactional: !nonTransactional, graph: graph,
                       upgrade: upgrade, downgrade: downgrade)
            print("Generating \(path) ...  done")
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a migration that merges several revisions (usually 'heads').")
        @OptionGroup var options: GlobalOptions
        @Option(name: .shortAndLong, help: "The message.") var message: String
        @Option(name: .customLong("rev-id"), help: "Use this id instead of a fresh one.") var revID: String?
        @Argument(help: "The revisions to merge, or 'heads'.") var revisions: [String]

        func run() throws {
            let graph = try options.graph()
            var parents: [String] = []
            for spec in revisions {
                for id in try graph.resolve(spec, current: []) where !parents.contains(id) { parents.append(id) }
            }
            guard parents.count > 1 else {
                throw GreyoakError(.usage, "merge needs at least two distinct revisions, got \(parents.joined(separator: ", "))")
            }
            let path = try MigrationScriptWriter(directory: options.migrationsDirectory)
                .write(message: message, revision: revID, parents: parents, graph: graph)
            print("Generating \(path) ...  done")
        }
    }
}
