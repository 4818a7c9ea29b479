import Foundation
import Testing
import GreyoakFuzzing

/// Every seed of the fuzz targets (`Fuzz/corpus/TARGET/`) and every input fuzzing ever
/// crashed on (`FuzzRegressions/TARGET/`, kept after the fix), replayed through the same
/// target functions libFuzzer drives, without a sanitizer: a regression traps here.
@Suite("Fuzz regression inputs replay without a crash")
struct FuzzRegressionTests {
    struct Input: CustomTestStringConvertible, Sendable {
        var target: FuzzTarget
        var path: String
        var testDescription: String { "\(target.rawValue)/\((path as NSString).lastPathComponent)" }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let inputs: [Input] = {
        var inputs: [Input] = []
        for root in ["Fuzz/corpus", "Tests/GreyoakUnitTests/FuzzRegressions"] {
            for target in FuzzTarget.allCases {
                let directory = "\(repository)/\(root)/\(target.rawValue)"
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                inputs += names.sorted().map { Input(target: target, path: "\(directory)/\($0)") }
            }
        }
        return inputs
    }()

    @Test("every target has seeds")
    func seeded() {
        #expect(Set(Self.inputs.map(\.target)) == Set(FuzzTarget.allCases))
    }

    @Test("replays", arguments: inputs)
    func replay(_ input: Input) throws {
        let data = try #require(FileManager.default.contents(atPath: input.path))
        data.withUnsafeBytes { input.target.run($0) }
    }
}
