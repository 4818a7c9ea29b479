import Foundation
import Testing
import GreyoakTestSupport
import GreyoakIngest

/// One score row put through `greyoak ingest`, and what must become of it. The whole rule
/// table runs on the validator itself (`ValidatorRuleTests`, a unit test); these few cases
/// run it end to end: flags and `--settings`, CSV and JSON, the error line, what is stored.
struct RuleCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        /// Loaded; these columns read back as given (timestamps `YYYY-MM-DD HH:MM:SS`,
        /// NULL as "NULL"). `ticker`, `scoring_date` and `mode` here also locate the row.
        case stored([String: String])
        /// Refused: exactly one error line, `FILE:3: column COL: value "V": RULE`.
        case rejected(column: String, value: String, rule: RowError.Rule)
    }

    var label: String
    var overrides: [String: String?]
    var flags: [String] = []
    /// Written to a file passed as `--settings`.
    var settings: String?
    var outcome: Outcome

    var testDescription: String { label }

    static func accept(_ label: String, _ overrides: [String: String?], stores: [String: String] = [:],
                       flags: [String] = [], settings: String? = nil) -> RuleCase {
        RuleCase(label: "accepts " + label, overrides: overrides, flags: flags, settings: settings, outcome: .stored(stores))
    }

    static func reject(_ label: String, _ overrides: [String: String?], column: String, value: String, rule: RowError.Rule,
                       flags: [String] = [], settings: String? = nil) -> RuleCase {
        RuleCase(label: "rejects " + label, overrides: overrides, flags: flags, settings: settings,
                 outcome: .rejected(column: column, value: value, rule: rule))
    }

    /// Scores that make a consistent row for `final` and `band` (no risk penalty).
    static func scored(_ final: String, _ band: String, weighted: String? = nil, risk: String = "0") -> [String: String?] {
        ["weighted_score": weighted ?? final, "risk_penalty": risk, "final_score": final, "band": band]
    }
}

/// Runs a case: the row after a valid neighbour (line 2) in a CSV file (the case row is on
/// line 3; in JSON, records 1 and 2), both with keys of their own, into the suite's shared
/// database. A refused file must leave the neighbour out too.
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
    static let settingsFile = #"{"strong_buy_at": 70, "buy_at": 60, "hold_at": 45}"#

    static let cases: [RuleCase] = [
        .accept("mode iNVESTOR, stored capitalised", ["mode": "iNVESTOR"], stores: ["mode": "Investor"]),
        .reject("mode Scalper", ["mode": "Scalper"], column: "mode", value: "Scalper", rule: .notAMode),
        .accept("band strong_buy, stored as the label", RuleCase.scored("80", "strong_buy"), stores: ["band": "Strong Buy"]),
        .reject("Strong Buy at 74.99", RuleCase.scored("74.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: .bandMismatch(finalScore: 74.99, capped: false, expected: .buy)),
        .accept("SectorBear Investor: 5 off, band from the score",
                RuleCase.scored("80", "Strong Buy", weighted: "85").merging(["guardrails": "SectorBear", "mode": "Investor"]) { $1 },
                stores: ["band": "Strong Buy", "final_score": "80", "weighted_score": "85", "guardrails": #"["SectorBear"]"#]),
        .reject("z 1e309", ["s_z": "1e309"], column: "s_z", value: "1e309", rule: .notFinite),
        .accept("+05:30 stored as UTC", ["scoring_date": "2024-10-08T16:00:00+05:30"], stores: ["scoring_date": "2024-10-08 10:30:00"]),
        .reject("2024-02-30", ["scoring_date": "2024-02-30"], column: "scoring_date", value: "2024-02-30",
                rule: .impossibleDate(reason: "2024-02 has 29 days")),
        .accept("all six guardrails reversed, stored in the engine's order",
                RuleCase.scored("60", "Hold").merging(["guardrails": "LowCoverage;SectorBear;HighRiskCap;PledgeCap;Illiquidity;LowDataHold"]) { $1 },
                stores: ["guardrails": #"["LowDataHold","Illiquidity","PledgeCap","HighRiskCap","SectorBear","LowCoverage"]"#]),
        .accept("Strong Buy at 70 with --settings", RuleCase.scored("70", "Strong Buy"), stores: ["band": "Strong Buy"], settings: settingsFile),
        .accept("a flag overriding --settings", RuleCase.scored("75", "Buy"), stores: ["band": "Buy"],
                flags: ["--strong-buy-at", "80"], settings: settingsFile),
        .reject("|z| 5.01 with --max-abs-z 5", ["r_z": "5.01"], column: "r_z", value: "5.01", rule: .zOutOfRange(limit: 5),
                flags: ["--max-abs-z", "5"]),
    ]

    @Test("the rules end to end: flags, --settings, the error line, what is stored", arguments: cases)
    func rule(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let jsonCases: [RuleCase] = [
        .accept("a JSON lower-case mode and ticker", ["mode": "investor", "ticker": "m&m.ns"], stores: ["mode": "Investor", "ticker": "M&M.NS"]),
        .reject("a JSON band at the wrong score", RuleCase.scored("74.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: .bandMismatch(finalScore: 74.99, capped: false, expected: .buy)),
    ]

    @Test("the same rules for JSON records (location: record N)", arguments: jsonCases)
    func jsonRecord(_ rule: RuleCase) async throws { try await checkRule(rule, json: true) }
}
