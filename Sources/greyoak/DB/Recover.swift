import ArgumentParser
import Foundation
import GreyoakIngest

extension DBCommand {
    struct Recover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve interrupted loads: commit those past their commit point, roll back the rest.",
            discussion: "Every load and `db upgrade` does this first; this command does only this.")
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let logger = options.logger("greyoak.recover")
            let resolutions = try LoadRecovery(connection: try options.connect(logger), logger: logger).run()
            for resolution in resolutions { print(resolution) }
            if resolutions.isEmpty { print("nothing to recover: no interrupted load in \(options.settings)") }
        }
    }
}
