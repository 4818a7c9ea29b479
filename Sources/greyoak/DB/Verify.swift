import ArgumentParser
import GreyoakKit

extension DBCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that the database is safe to load into: at head, unedited migrations, no drift.")
        @OptionGroup var options: GlobalOptions

        func run() throws {
            throw GreyoakError(.failure, "not yet")
        }
    }
}
