import Foundation
import Testing
import GreyoakTestSupport
import GreyoakIngest

/// Runs a case of the shared table (``RuleTable``, `Support/RuleTable.swift`): the row after
/// a valid neighbour (line 2) in a CSV file (the case row is on line 3; in JSON, records 1
/// and 2), both with keys of their own, into the suite's shared database. A refused file
/// must leave the neighbour out too.
func checkRule(_ rule: RuleCase, json: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let database = try SharedIngestDatabase.require()
    let scratch = try IngestScratch()
    defer { scratch.remove() }
    // Hold at 55 whatever thresholds a case sets.
    let neighbour = ScoreRecord.valid(ticker: UniqueKeys.ticker(), date: UniqueKeys.date()).with(RuleCase.scored("55", "Hold"))
    let record = ScoreRecord.valid(ticker: UniqueKeys.ticker(), date: UniqueKeys.date()).with(rule.overrides)
    let file = json
        ? try scratch.write("rule.json", "[\n" + neighbour.jsonObject() + ",\n" + record.jsonObject() + "\n]\n")
        : try scratch.write("rule.csv", ScoreRecord.csv([neighbour, record]))
    var arguments = [file, "--json", "--writers", "1"] + rule.flags
    if let settings = rule.settings { arguments += ["--settings", try scratch.write("settings.json", settings)] }

    let result = try await IngestCLI.ingest(database, arguments, sourceLocation: sourceLocation)
    let neighbourRow = try ScoresTable.row(database, ticker: neighbour["ticker"]!, date: neighbour["scoring_date"]! + " 00:00:00",
                                           mode: "Trader")
    switch rule.outcome {
    case let .stored(expected):
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        #expect(result.rowErrors(in: [file]).isEmpty, "\(result)", sourceLocation: sourceLocation)
        let report = try result.report(sourceLocation: sourceLocation)
        #expect(report.inserted == 2 && report.rejected == 0 && report.outcome == "committed", "\(report)",
                sourceLocation: sourceLocation)
        #expect(neighbourRow != nil, "the valid neighbour row was not stored", sourceLocation: sourceLocation)
        let date = record["scoring_date"]!
        let row = try #require(try ScoresTable.row(
            database, ticker: expected["ticker"] ?? record["ticker"]!,
            date: expected["scoring_date"] ?? (date.count == 10 ? date + " 00:00:00" : date),
            mode: expected["mode"] ?? record["mode"]!), "the row is not in scores under its expected key", sourceLocation: sourceLocation)
        for (column, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(row[column] == value, "column \(column)", sourceLocation: sourceLocation)
        }
    case let .rejected(column, value, rule):
        #expect(result.status == 9, "\(result)", sourceLocation: sourceLocation)
        let errors = result.rowErrors(in: [file])
        #expect(errors.count == 1, "expected one error line:\n\(result)", sourceLocation: sourceLocation)
        let line = try #require(errors.first, sourceLocation: sourceLocation)
        let expected = RowError(file: file, fileIndex: 0, location: json ? .record(2) : .line(3), column: column, value: value, rule: rule)
        #expect(line == expected.description, sourceLocation: sourceLocation)
        #expect(neighbourRow == nil, "the valid row of a refused file was stored", sourceLocation: sourceLocation)
        let report = try result.report(sourceLocation: sourceLocation)
        #expect(report.inserted == 0 && report.updated == 0 && report.rejected == 1 && report.rowsRead == 2, "\(report)",
                sourceLocation: sourceLocation)
    }
}

@Suite("Ingest validation rules", .sharedIngestDatabase)
struct IngestValidationRuleTests {
    @Test("the rules end to end: flags, --settings, the error line, what is stored", arguments: RuleTable.endToEnd)
    func rule(_ rule: RuleCase) async throws { try await checkRule(rule) }

    @Test("the same rules for JSON records (location: record N)", arguments: RuleTable.endToEndJSON)
    func jsonRecord(_ rule: RuleCase) async throws { try await checkRule(rule, json: true) }
}
