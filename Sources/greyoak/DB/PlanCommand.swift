import ArgumentParser
import Foundation
import GreyoakPostgres
import GreyoakMigrations

extension DBCommand {
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what each pending migration would lock, rewrite and build, weighed by the live tables' sizes, and check its round trip. Changes nothing.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print a JSON array, one object per migration.") var json = false
        @Option(name: .customLong("fail-on"),
                help: "Exit 11 if any migration has one of these (comma-separated): \(PlanFinding.allCases.map(\.rawValue).joined(separator: ", ")).")
        var failOn: String?
        @Option(name: .customLong("dev-url"), help: "A database greyoak may wipe, to replay the migrations into when the role cannot create databases.")
        var devURL: String?
        @Argument(help: "Target revision (default head).") var revision = "head"

        func run() throws {
            let forbidden = try (failOn ?? "").split(separator: ",").map { word in
                let name = word.trimmingCharacters(in: .whitespaces)
                guard let finding = PlanFinding(rawValue: name) else {
                    throw GreyoakError(.usage, "--fail-on: unknown finding \"\(name)\"; use \(PlanFinding.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return finding
            }
            let logger = options.logger("greyoak.plan")
            let graph = try options.graph()
            // The plan locks only its scratch objects; the bound is for the unforeseen.
            let connection = try Connection(options.settings.named("plan").lockTimeout(milliseconds: 2000), logger: logger)
            var planner = MigrationPlanner(graph: graph, connection: connection, devURL: devURL.map { ConnectionSettings(url: $0) }, logger: logger)
            let plans = try planner.plan(to: revision)
            if let place = planner.replayedIn { logger.debug("the migrations were replayed in \(place)") }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(plans), as: UTF8.self))
            } else if plans.isEmpty {
                print("nothing to plan: the database is at \(revision) already")
            } else {
                print(plans.map(\.text).joined(separator: "\n"))
            }
            let refused = plans.flatMap { plan in forbidden.filter(plan.has).map { "\(plan.revision) has \($0.rawValue)" } }
            if !refused.isEmpty {
                throw GreyoakError(.planRefused, "the plan has what --fail-on forbids: \(refused.joined(separator: ", "))")
            }
        }
    }
}
