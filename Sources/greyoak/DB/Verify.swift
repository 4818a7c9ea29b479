import ArgumentParser
import Foundation
import GreyoakPostgres
import GreyoakMigrations
import GreyoakIngest

extension DBCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that the database is safe to load into: at head, unedited migrations, no drift.")
        @OptionGroup var options: GlobalOptions
        @Option(name: .customLong("dev-url"), help: "A database greyoak may wipe, to replay the migrations into when the role cannot create databases.")
        var devURL: String?
        @Option(name: .customLong("schema"), help: "Compare this schema (repeatable; default: the current one, public).")
        var schemas: [String] = []

        func run() throws {
            let logger = options.logger("greyoak.verify")
            let graph = try options.graph()
            let report = try SchemaVerifier(graph: graph, connection: try options.connect(logger, part: "verify"),
                                            housekeeping: IngestHousekeeping(),
                                            devURL: devURL.map { ConnectionSettings(url: $0) },
                                            schemas: schemas.isEmpty ? nil : schemas, logger: logger).verify()
            for note in report.notes { print("note: \(note)") }
            for problem in report.problems { print("problem: \(problem)") }
            guard let code = report.code else {
                print("OK: \(options.settings) is at head \(graph.heads.joined(separator: ", ")), migration files unedited, \(report.summary)")
                return
            }
            throw GreyoakError(code, "\(report.problems.count) problem(s) found in \(options.settings); it is not safe to load into")
        }
    }
}
