import Foundation
import Testing
import GreyoakTestSupport

/// One line of `sample-data/bad/expected.tsv`: a file with exactly one fault, and where
/// greyoak must report it.
struct BadSample: Sendable, CustomTestStringConvertible {
    var file: String
    var location: String
    var column: String
    var value: String
    /// `RowError.Rule.code`; the unit tests check it (`BadSampleRuleTests`), on the validator.
    var code: String

    var path: String { IngestRepo.path("sample-data/bad/" + file) }
    var testDescription: String { file }

    /// How the error line must begin: `FILE:LOC:`, then ` column COL: value "V":` when the
    /// fault is in a field.
    var expectedPrefix: String {
        var prefix = "\(path):\(location):"
        if !column.isEmpty { prefix += " column \(column): value \"\(value)\":" }
        return prefix + " "
    }

    static let all: [BadSample] = {
        guard let text = try? String(contentsOfFile: IngestRepo.path("sample-data/bad/expected.tsv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return BadSample(file: fields[0], location: fields[1], column: fields[2], value: fields[3], code: fields[5])
        }
    }()
}

@Suite("Ingest sample-data/bad", .sharedIngestDatabase)
struct IngestBadSampleTests {
    @Test("expected.tsv lists every bad file")
    func everyFileListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: IngestRepo.path("sample-data/bad"))
            .filter { $0 != "expected.tsv" && $0 != "README.md" }
        #expect(Set(BadSample.all.map(\.file)) == Set(files))
        #expect(BadSample.all.count >= 20)
    }

    /// Each file fails once, where expected.tsv says, with exit 9 and nothing written.
    @Test("each bad file gives its error and writes nothing", arguments: BadSample.all)
    func badFile(_ sample: BadSample) async throws {
        try await check(sample, dryRun: false)
    }

    /// A dry run finds the same faults and says them the same way (one of each kind:
    /// parser, field, consistency, duplicate).
    static let dryRunSamples = BadSample.all.filter {
        ["duplicate-key.csv", "malformed.json", "unterminated-quote.csv", "unknown-column.csv", "json-wrong-type.json",
         "band-mismatch.csv", "z-nan.csv", "date-invalid.csv"].contains($0.file)
    }

    @Test("--dry-run reports a bad file the same way", arguments: dryRunSamples)
    func badFileDryRun(_ sample: BadSample) async throws {
        try await check(sample, dryRun: true)
    }

    private func check(_ sample: BadSample, dryRun: Bool) async throws {
        let database = try SharedIngestDatabase.require()
        let result = try await IngestCLI.ingest(database, [sample.path, "--json"] + (dryRun ? ["--dry-run"] : []))
        #expect(result.status == 9, "\(result)")
        let errors = result.rowErrors(in: [sample.path])
        #expect(errors.count == 1, "expected exactly one error line:\n\(result)")
        let line = try #require(errors.first)
        #expect(line.hasPrefix(sample.expectedPrefix), "expected a line starting \(sample.expectedPrefix)")
        #expect(result.stderr.contains("nothing was loaded"), "\(result)")
        #expect(try result.report().inserted == 0)
        // All samples are refused, so the shared table stays empty.
        #expect(try ScoresTable.count(database) == 0)
    }
}
