import Foundation
import Testing
import GreyoakIngest

/// `sample-data/bad/`, on the parser and validator alone: each file fails once, at the place
/// and for the rule (by code) that `expected.tsv` names. The end-to-end suite checks the
/// same files through the command (exit status, the error line, nothing written).
@Suite("sample-data/bad, on the validator")
struct BadSampleRuleTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        var file, location, column, value, code: String
        var testDescription: String { file }
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sample-data/bad").path

    static let samples: [Sample] = {
        guard let text = try? String(contentsOfFile: folder + "/expected.tsv", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Sample(file: fields[0], location: fields[1], column: fields[2], value: fields[3], code: fields[5])
        }
    }()

    @Test("expected.tsv names a rule code for every file")
    func listed() {
        #expect(Self.samples.count >= 20)
        #expect(Self.samples.allSatisfy { !$0.code.isEmpty })
    }

    @Test("each bad file gives one error, where and for the rule expected.tsv says", arguments: samples)
    func sample(_ sample: Sample) throws {
        let text = try String(contentsOfFile: Self.folder + "/" + sample.file, encoding: .utf8)
        let format: InputFormat = sample.file.hasSuffix(".json") ? .json : .csv
        var errors: [RowError]
        do {
            // The exact in-memory check a dry run of standard input uses: there is no database.
            errors = try ValidatorRun.run(text, format: format, name: sample.file, inMemory: .exact(candidates: nil)).errors
        } catch let error as RowError {
            errors = [error]
        }
        #expect(errors.count == 1, "\(errors)")
        let error = try #require(errors.first)
        #expect(error.location.description == sample.location)
        #expect((error.column ?? "") == sample.column)
        #expect((error.value ?? "") == sample.value)
        #expect(error.rule.code == sample.code, "\(error)")
    }
}
