import Foundation
import Testing

/// One score row put through `greyoak ingest`, and what must become of it.
struct RuleCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        /// Loaded; these columns read back as given (timestamps `YYYY-MM-DD HH:MM:SS`,
        /// NULL as "NULL"). `ticker`, `scoring_date` and `mode` here also locate the row.
        case stored([String: String])
        /// Refused: exactly one error line, `FILE:3: column COL: value "V": ...RULE...`.
        case rejected(column: String, value: String, rule: String)
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

    static func reject(_ label: String, _ overrides: [String: String?], column: String, value: String, rule: String,
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
        let location = json ? "record 2" : "3"
        let errors = result.rowErrors(in: [file])
        #expect(errors.count == 1, "expected one error line:\n\(result)", sourceLocation: sourceLocation)
        let line = try #require(errors.first, sourceLocation: sourceLocation)
        let prefix = "\(file):\(location): column \(column): value \"\(value)\": "
        #expect(line.hasPrefix(prefix), "expected a line starting \(prefix)", sourceLocation: sourceLocation)
        #expect(line.contains(rule), "expected the rule \"\(rule)\" in: \(line)", sourceLocation: sourceLocation)
        #expect(neighbourRow == nil, "the valid row of a refused file was stored", sourceLocation: sourceLocation)
        let report = try result.report(sourceLocation: sourceLocation)
        #expect(report.inserted == 0 && report.updated == 0 && report.rejected == 1 && report.rowsRead == 2, "\(report)",
                sourceLocation: sourceLocation)
    }
}

@Suite("Ingest validation rules", .sharedIngestDatabase)
struct IngestValidationRuleTests {
    static let modes: [RuleCase] = [
        .accept("mode Trader", ["mode": "Trader"], stores: ["mode": "Trader"]),
        .accept("mode trader", ["mode": "trader"], stores: ["mode": "Trader"]),
        .accept("mode TRADER", ["mode": "TRADER"], stores: ["mode": "Trader"]),
        .accept("mode investor", ["mode": "investor"], stores: ["mode": "Investor"]),
        .accept("mode iNVESTOR", ["mode": "iNVESTOR"], stores: ["mode": "Investor"]),
        .reject("mode Scalper", ["mode": "Scalper"], column: "mode", value: "Scalper", rule: "is not a mode"),
        .reject("mode Trade", ["mode": "Trade"], column: "mode", value: "Trade", rule: "is not a mode"),
        .reject("an empty mode", ["mode": nil], column: "mode", value: "", rule: "is required"),
    ]

    @Test("mode: either case, stored capitalised", arguments: modes)
    func mode(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let bandSpellings: [RuleCase] = [
        .accept("band Strong Buy", RuleCase.scored("80", "Strong Buy"), stores: ["band": "Strong Buy"]),
        .accept("band strong_buy", RuleCase.scored("80", "strong_buy"), stores: ["band": "Strong Buy"]),
        .accept("band STRONG-BUY", RuleCase.scored("80", "STRONG-BUY"), stores: ["band": "Strong Buy"]),
        .accept("band strong buy", RuleCase.scored("80", "strong buy"), stores: ["band": "Strong Buy"]),
        .accept("band BUY", RuleCase.scored("70", "BUY"), stores: ["band": "Buy"]),
        .accept("band hold", RuleCase.scored("55", "hold"), stores: ["band": "Hold"]),
        .accept("band AVOID", RuleCase.scored("10", "AVOID"), stores: ["band": "Avoid"]),
        .accept("no band", RuleCase.scored("80", "x").merging(["band": nil]) { $1 }, stores: ["band": "NULL"]),
        .reject("band Stong Buy", RuleCase.scored("80", "Stong Buy"), column: "band", value: "Stong Buy",
                rule: "is not a band (Strong Buy, Buy, Hold, Avoid)"),
        .reject("band StrongBuy", RuleCase.scored("80", "StrongBuy"), column: "band", value: "StrongBuy", rule: "is not a band"),
    ]

    @Test("band spellings are forgiven, stored as the label", arguments: bandSpellings)
    func bandSpelling(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let bandThresholds: [RuleCase] = [
        .accept("Strong Buy at 75", RuleCase.scored("75", "Strong Buy"), stores: ["final_score": "75", "band": "Strong Buy"]),
        .accept("Buy at 74.99", RuleCase.scored("74.99", "Buy"), stores: ["final_score": "74.99", "band": "Buy"]),
        .reject("Strong Buy at 74.99", RuleCase.scored("74.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: "does not match final_score 74.99: expected Buy"),
        .reject("Buy at 75", RuleCase.scored("75", "Buy"), column: "band", value: "Buy",
                rule: "does not match final_score 75.00: expected Strong Buy"),
        .accept("Buy at 65", RuleCase.scored("65", "Buy"), stores: ["band": "Buy"]),
        .accept("Hold at 64.99", RuleCase.scored("64.99", "Hold"), stores: ["band": "Hold"]),
        .reject("Buy at 64.99", RuleCase.scored("64.99", "Buy"), column: "band", value: "Buy",
                rule: "does not match final_score 64.99: expected Hold"),
        .reject("Hold at 65", RuleCase.scored("65", "Hold"), column: "band", value: "Hold",
                rule: "does not match final_score 65.00: expected Buy"),
        .accept("Hold at 50", RuleCase.scored("50", "Hold"), stores: ["band": "Hold"]),
        .accept("Avoid at 49.99", RuleCase.scored("49.99", "Avoid"), stores: ["band": "Avoid"]),
        .reject("Hold at 49.99", RuleCase.scored("49.99", "Hold"), column: "band", value: "Hold",
                rule: "does not match final_score 49.99: expected Avoid"),
        .reject("Avoid at 50", RuleCase.scored("50", "Avoid"), column: "band", value: "Avoid",
                rule: "does not match final_score 50.00: expected Hold"),
        .accept("Strong Buy at 100", RuleCase.scored("100", "Strong Buy"), stores: ["final_score": "100"]),
        .accept("Avoid at 0", RuleCase.scored("0", "Avoid"), stores: ["final_score": "0"]),
    ]

    @Test("band agrees with final_score at 75 / 65 / 50 exactly and just below", arguments: bandThresholds)
    func bandThreshold(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static func guarded(_ guardrails: String, _ final: String, _ band: String, mode: String = "Trader",
                        weighted: String? = nil) -> [String: String?] {
        RuleCase.scored(final, band, weighted: weighted).merging(["guardrails": guardrails, "mode": mode]) { $1 }
    }

    static let guardrailCaps: [RuleCase] = [
        .accept("LowDataHold capping 80 at Hold", guarded("LowDataHold", "80", "Hold"), stores: ["band": "Hold"]),
        .reject("Strong Buy despite LowDataHold", guarded("LowDataHold", "80", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: "does not match final_score 80.00 with a capping guardrail: expected Hold"),
        .accept("Illiquidity capping at Hold", guarded("Illiquidity", "80", "Hold"), stores: ["guardrails": #"["Illiquidity"]"#]),
        .accept("PledgeCap capping Buy at Hold", guarded("PledgeCap", "70", "Hold"), stores: ["band": "Hold"]),
        .reject("Buy despite PledgeCap", guarded("PledgeCap", "70", "Buy"), column: "band", value: "Buy",
                rule: "with a capping guardrail: expected Hold"),
        .accept("HighRiskCap capping at Hold (Investor)", guarded("HighRiskCap", "90", "Hold", mode: "Investor"),
                stores: ["band": "Hold"]),
        .accept("LowCoverage capping at Hold", guarded("LowCoverage", "76", "Hold"), stores: ["band": "Hold"]),
        .reject("Strong Buy despite LowCoverage (Investor)", guarded("LowCoverage", "80", "Strong Buy", mode: "Investor"),
                column: "band", value: "Strong Buy", rule: "with a capping guardrail: expected Hold"),
        .accept("a guardrail leaving Avoid as it is", guarded("LowDataHold", "40", "Avoid"), stores: ["band": "Avoid"]),
        .reject("a guardrail lifting Avoid to Hold", guarded("LowDataHold", "40", "Hold"), column: "band", value: "Hold",
                rule: "does not match final_score 40.00 with a capping guardrail: expected Avoid"),
        .accept("SectorBear capping Trader at Hold", guarded("SectorBear", "80", "Hold"), stores: ["band": "Hold"]),
        .reject("Strong Buy despite SectorBear (Trader)", guarded("SectorBear", "80", "Strong Buy"), column: "band",
                value: "Strong Buy", rule: "with a capping guardrail: expected Hold"),
        .accept("SectorBear Investor: 5 off, band from the score", guarded("SectorBear", "80", "Strong Buy", mode: "Investor", weighted: "85"),
                stores: ["band": "Strong Buy", "final_score": "80", "weighted_score": "85"]),
        .reject("SectorBear Investor capped at Hold", guarded("SectorBear", "80", "Hold", mode: "Investor", weighted: "85"),
                column: "band", value: "Hold", rule: "does not match final_score 80.00: expected Strong Buy"),
        .accept("SectorBear and LowDataHold Investor: capped", guarded("SectorBear;LowDataHold", "80", "Hold", mode: "Investor", weighted: "85"),
                stores: ["band": "Hold"]),
        .reject("SectorBear and LowDataHold Investor: not capped", guarded("SectorBear;LowDataHold", "80", "Strong Buy", mode: "Investor", weighted: "85"),
                column: "band", value: "Strong Buy", rule: "with a capping guardrail: expected Hold"),
    ]

    @Test("any guardrail caps the band at Hold, except SectorBear in Investor mode", arguments: guardrailCaps)
    func guardrailCap(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let lowered = ["--strong-buy-at", "70", "--buy-at", "60", "--hold-at", "45"]
    static let loweredFile = #"{"strong_buy_at": 70, "buy_at": 60, "hold_at": 45}"#

    static let changedThresholds: [RuleCase] = [
        .reject("Strong Buy at 70 with the default thresholds", RuleCase.scored("70", "Strong Buy"), column: "band",
                value: "Strong Buy", rule: "expected Buy"),
        .accept("Strong Buy at 70 with --strong-buy-at 70", RuleCase.scored("70", "Strong Buy"), stores: ["band": "Strong Buy"], flags: lowered),
        .reject("Strong Buy at 69.99 with --strong-buy-at 70", RuleCase.scored("69.99", "Strong Buy"), column: "band",
                value: "Strong Buy", rule: "expected Buy", flags: lowered),
        .accept("Buy at 60 with --buy-at 60", RuleCase.scored("60", "Buy"), stores: ["band": "Buy"], flags: lowered),
        .accept("Hold at 59.99 with --buy-at 60", RuleCase.scored("59.99", "Hold"), stores: ["band": "Hold"], flags: lowered),
        .accept("Hold at 45 with --hold-at 45", RuleCase.scored("45", "Hold"), stores: ["band": "Hold"], flags: lowered),
        .reject("Hold at 44.99 with --hold-at 45", RuleCase.scored("44.99", "Hold"), column: "band", value: "Hold",
                rule: "expected Avoid", flags: lowered),
        .accept("Strong Buy at 70 with --settings", RuleCase.scored("70", "Strong Buy"), stores: ["band": "Strong Buy"], settings: loweredFile),
        .reject("Strong Buy at 69.99 with --settings", RuleCase.scored("69.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: "expected Buy", settings: loweredFile),
        .accept("Avoid at 44.99 with --settings", RuleCase.scored("44.99", "Avoid"), stores: ["band": "Avoid"], settings: loweredFile),
        .accept("a flag overriding --settings", RuleCase.scored("75", "Buy"), stores: ["band": "Buy"],
                flags: ["--strong-buy-at", "80"], settings: loweredFile),
        .accept("|z| 5 with max_abs_z 5 in --settings", ["t_z": "-5"], stores: ["t_z": "-5"], settings: #"{"max_abs_z": 5}"#),
        .reject("|z| 5.01 with max_abs_z 5 in --settings", ["t_z": "-5.01"], column: "t_z", value: "-5.01", rule: "exceeds 5",
                settings: #"{"max_abs_z": 5}"#),
        .reject("risk 12.01 with risk_penalty_max 12 in --settings", RuleCase.scored("70", "Buy", weighted: "82.01", risk: "12.01"),
                column: "risk_penalty", value: "12.01", rule: "is outside [0, 12]", settings: #"{"risk_penalty_max": 12}"#),
        .accept("final 0.4 off with final_score_tolerance 0.5", RuleCase.scored("65.4", "Buy", weighted: "70", risk: "5"),
                stores: ["final_score": "65.4"], settings: #"{"final_score_tolerance": 0.5}"#),
    ]

    @Test("thresholds and limits from flags and --settings", arguments: changedThresholds)
    func changedThreshold(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let zScores: [RuleCase] =
        ["f_z", "t_z", "r_z", "o_z", "q_z", "s_z"].flatMap { z -> [RuleCase] in
            [
                .accept("\(z) 10", [z: "10"], stores: [z: "10"]),
                .accept("\(z) -10", [z: "-10"], stores: [z: "-10"]),
                .reject("\(z) 10.01", [z: "10.01"], column: z, value: "10.01", rule: "exceeds 10"),
            ]
        } + [
            .reject("z -10.01", ["s_z": "-10.01"], column: "s_z", value: "-10.01", rule: "exceeds 10"),
            .accept("an empty z (NULL)", ["f_z": nil], stores: ["f_z": "NULL"]),
            .reject("z NaN", ["t_z": "NaN"], column: "t_z", value: "NaN", rule: "is not a finite number"),
            .reject("z nan", ["t_z": "nan"], column: "t_z", value: "nan", rule: "is not a finite number"),
            .reject("z inf", ["o_z": "inf"], column: "o_z", value: "inf", rule: "is not a finite number"),
            .reject("z -Infinity", ["o_z": "-Infinity"], column: "o_z", value: "-Infinity", rule: "is not a finite number"),
            .reject("z 1e309", ["s_z": "1e309"], column: "s_z", value: "1e309", rule: "is not a finite number"),
            .reject("z abc", ["q_z": "abc"], column: "q_z", value: "abc", rule: "is not a number"),
            .accept("|z| 5 with --max-abs-z 5", ["r_z": "5"], stores: ["r_z": "5"], flags: ["--max-abs-z", "5"]),
            .reject("|z| 5.01 with --max-abs-z 5", ["r_z": "5.01"], column: "r_z", value: "5.01", rule: "exceeds 5", flags: ["--max-abs-z", "5"]),
            .accept("|z| 11.5 with --max-abs-z 12", ["r_z": "-11.5"], stores: ["r_z": "-11.5"], flags: ["--max-abs-z", "12"]),
        ]

    @Test("z-scores: finite, |z| at most 10 (or --max-abs-z)", arguments: zScores)
    func zScore(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let ranges: [RuleCase] =
        ["f_score", "t_score", "r_score", "o_score", "q_score", "s_score"].flatMap { pillar -> [RuleCase] in
            [
                .accept("\(pillar) 0", [pillar: "0"], stores: [pillar: "0"]),
                .accept("\(pillar) 100", [pillar: "100"], stores: [pillar: "100"]),
                .reject("\(pillar) -0.01", [pillar: "-0.01"], column: pillar, value: "-0.01", rule: "is outside [0, 100]"),
                .reject("\(pillar) 100.01", [pillar: "100.01"], column: pillar, value: "100.01", rule: "is outside [0, 100]"),
            ]
        } + [
            .reject("weighted_score 100.01", ["weighted_score": "100.01"], column: "weighted_score", value: "100.01",
                    rule: "is outside [0, 100]"),
            .reject("final_score 100.01", RuleCase.scored("100.01", "Strong Buy", weighted: "100"), column: "final_score",
                    value: "100.01", rule: "is outside [0, 100]"),
            .reject("final_score -0.01", RuleCase.scored("-0.01", "Avoid", weighted: "0"), column: "final_score",
                    value: "-0.01", rule: "is outside [0, 100]"),
            .accept("risk_penalty 20", RuleCase.scored("70", "Buy", weighted: "90", risk: "20"), stores: ["risk_penalty": "20"]),
            .reject("risk_penalty 20.01", RuleCase.scored("70", "Buy", weighted: "90.01", risk: "20.01"), column: "risk_penalty",
                    value: "20.01", rule: "is outside [0, 20]"),
            .reject("risk_penalty -0.01", RuleCase.scored("70", "Buy", weighted: "69.99", risk: "-0.01"), column: "risk_penalty",
                    value: "-0.01", rule: "is outside [0, 20]"),
            .reject("r_score abc", ["r_score": "abc"], column: "r_score", value: "abc", rule: "is not a number"),
            .accept("f_score 1e2", ["f_score": "1e2"], stores: ["f_score": "100"]),
            .accept("an empty pillar (NULL)", ["o_score": nil], stores: ["o_score": "NULL"]),
        ]

    @Test("scores in [0, 100], risk_penalty in [0, 20]", arguments: ranges)
    func range(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let finalScores: [RuleCase] = [
        .accept("final = weighted - risk", RuleCase.scored("65", "Buy", weighted: "70", risk: "5"), stores: ["final_score": "65"]),
        .accept("final 0.01 above", RuleCase.scored("65.01", "Buy", weighted: "70", risk: "5"), stores: ["final_score": "65.01"]),
        .accept("final 0.01 below", RuleCase.scored("64.99", "Hold", weighted: "70", risk: "5"), stores: ["final_score": "64.99"]),
        .reject("final 0.02 above", RuleCase.scored("65.02", "Buy", weighted: "70", risk: "5"), column: "final_score", value: "65.02",
                rule: "does not equal max(0, weighted_score - risk_penalty) = 65.00"),
        .reject("final 0.02 below", RuleCase.scored("64.98", "Hold", weighted: "70", risk: "5"), column: "final_score", value: "64.98",
                rule: "does not equal max(0, weighted_score - risk_penalty) = 65.00"),
        .accept("final 0 when risk exceeds weighted", RuleCase.scored("0", "Avoid", weighted: "10", risk: "15"), stores: ["final_score": "0"]),
        .reject("final 1 when risk exceeds weighted", RuleCase.scored("1", "Avoid", weighted: "10", risk: "15"), column: "final_score",
                value: "1", rule: "= 0.00"),
        .accept("SectorBear Investor: 5 less", IngestValidationRuleTests.guarded("SectorBear", "65", "Buy", mode: "Investor", weighted: "70"),
                stores: ["final_score": "65"]),
        .accept("SectorBear Investor: 5 less and risk", IngestValidationRuleTests.guarded("SectorBear", "60", "Hold", mode: "Investor", weighted: "70")
                    .merging(["risk_penalty": "5"]) { $1 }, stores: ["final_score": "60", "risk_penalty": "5"]),
        .accept("SectorBear Investor: not below 0", IngestValidationRuleTests.guarded("SectorBear", "0", "Avoid", mode: "Investor", weighted: "3"),
                stores: ["final_score": "0"]),
        .reject("SectorBear Investor without the 5 points", IngestValidationRuleTests.guarded("SectorBear", "70", "Buy", mode: "Investor", weighted: "70"),
                column: "final_score", value: "70", rule: "does not equal max(0, weighted_score - risk_penalty) - 5 (SectorBear, Investor) = 65.00"),
        .reject("SectorBear Trader with 5 points off", IngestValidationRuleTests.guarded("SectorBear", "65", "Hold", weighted: "70"),
                column: "final_score", value: "65", rule: "= 70.00"),
    ]

    @Test("final_score = max(0, weighted - risk) within 0.015, 5 less for SectorBear in Investor mode", arguments: finalScores)
    func finalScore(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let tickers: [RuleCase] = [
        .accept("M&M.NS", ["ticker": "M&M.NS"], stores: ["ticker": "M&M.NS"]),
        .accept("BAJAJ-AUTO.NS", ["ticker": "BAJAJ-AUTO.NS"], stores: ["ticker": "BAJAJ-AUTO.NS"]),
        .accept("reliance.ns, stored upper case", ["ticker": "reliance.ns"], stores: ["ticker": "RELIANCE.NS"]),
        .accept("20 characters", ["ticker": "ABCDEFGHIJKLMNOPQ.NS"], stores: ["ticker": "ABCDEFGHIJKLMNOPQ.NS"]),
        .accept("20 lower-case characters", ["ticker": "abcdefghijklmnopq.bo"], stores: ["ticker": "ABCDEFGHIJKLMNOPQ.BO"]),
        .accept("no suffix", ["ticker": "RELIANCE"], stores: ["ticker": "RELIANCE"]),
        .reject("21 characters", ["ticker": "ABCDEFGHIJKLMNOPQR.NS"], column: "ticker", value: "ABCDEFGHIJKLMNOPQR.NS", rule: "is not a ticker"),
        .reject("a .N suffix", ["ticker": "RELIANCE.N"], column: "ticker", value: "RELIANCE.N", rule: "is not a ticker"),
        .reject("a .NSEX suffix", ["ticker": "RELIANCE.NSEX"], column: "ticker", value: "RELIANCE.NSEX", rule: "is not a ticker"),
        .reject("a space", ["ticker": "RELI ANCE.NS"], column: "ticker", value: "RELI ANCE.NS", rule: "is not a ticker"),
        .reject("a bare suffix", ["ticker": ".NS"], column: "ticker", value: ".NS", rule: "is not a ticker"),
        .reject("two dots", ["ticker": "A.B.NS"], column: "ticker", value: "A.B.NS", rule: "is not a ticker"),
        .reject("an empty ticker", ["ticker": nil], column: "ticker", value: "", rule: "is required"),
    ]

    @Test("tickers: NSE symbols with & and -, at most 20 characters, .XX/.XXX suffix", arguments: tickers)
    func ticker(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let dates: [RuleCase] = [
        .accept("2024-10-08", ["scoring_date": "2024-10-08"], stores: ["scoring_date": "2024-10-08 00:00:00"]),
        .accept("2024-10-08T10:30:00Z", ["scoring_date": "2024-10-08T10:30:00Z"], stores: ["scoring_date": "2024-10-08 10:30:00"]),
        .accept("+05:30 stored as UTC", ["scoring_date": "2024-10-08T16:00:00+05:30"], stores: ["scoring_date": "2024-10-08 10:30:00"]),
        .accept("+05:30 across midnight", ["scoring_date": "2024-10-08T01:00:00+05:30"], stores: ["scoring_date": "2024-10-07 19:30:00"]),
        .accept("2024-02-29", ["scoring_date": "2024-02-29"], stores: ["scoring_date": "2024-02-29 00:00:00"]),
        .accept("2000-02-29", ["scoring_date": "2000-02-29"], stores: ["scoring_date": "2000-02-29 00:00:00"]),
        .reject("2023-02-29", ["scoring_date": "2023-02-29"], column: "scoring_date", value: "2023-02-29", rule: "is not a valid date"),
        .reject("2024-02-30", ["scoring_date": "2024-02-30"], column: "scoring_date", value: "2024-02-30", rule: "is not a valid date"),
        .reject("1900-02-29", ["scoring_date": "1900-02-29"], column: "scoring_date", value: "1900-02-29", rule: "is not a valid date"),
        .reject("2024-04-31", ["scoring_date": "2024-04-31"], column: "scoring_date", value: "2024-04-31", rule: "is not a valid date"),
        .reject("month 13", ["scoring_date": "2024-13-01"], column: "scoring_date", value: "2024-13-01", rule: "is not a valid date"),
        .reject("hour 25", ["scoring_date": "2024-10-08T25:00:00Z"], column: "scoring_date", value: "2024-10-08T25:00:00Z",
                rule: "is not a valid date"),
        .reject("08/10/2024", ["scoring_date": "08/10/2024"], column: "scoring_date", value: "08/10/2024", rule: "is not a date"),
        .reject("2024-10-8", ["scoring_date": "2024-10-8"], column: "scoring_date", value: "2024-10-8", rule: "is not a date"),
        .reject("an empty date", ["scoring_date": nil], column: "scoring_date", value: "", rule: "is required"),
        .accept("as_of with +05:30 stored as UTC", ["as_of": "2024-10-08T16:00:00+05:30"], stores: ["as_of": "2024-10-08 10:30:00"]),
        .accept("an empty as_of (NULL)", ["as_of": nil], stores: ["as_of": "NULL"]),
        .reject("as_of 2023-02-29", ["as_of": "2023-02-29T10:00:00Z"], column: "as_of", value: "2023-02-29T10:00:00Z",
                rule: "is not a valid date"),
    ]

    @Test("dates and date-times, offsets stored as UTC", arguments: dates)
    func date(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static func held(_ guardrails: String?) -> [String: String?] {
        RuleCase.scored("60", "Hold").merging(["guardrails": guardrails]) { $1 }
    }

    static let guardrailLists: [RuleCase] = [
        .accept("a JSON array", held(#"["LowDataHold","SectorBear"]"#), stores: ["guardrails": #"["LowDataHold","SectorBear"]"#]),
        .accept("a reversed JSON array", held(#"["SectorBear", "LowDataHold"]"#), stores: ["guardrails": #"["LowDataHold","SectorBear"]"#]),
        .accept("a ; list", held("SectorBear;LowDataHold"), stores: ["guardrails": #"["LowDataHold","SectorBear"]"#]),
        .accept("a | list", held("LowCoverage|Illiquidity"), stores: ["guardrails": #"["Illiquidity","LowCoverage"]"#]),
        .accept("all six reversed", held("LowCoverage;SectorBear;HighRiskCap;PledgeCap;Illiquidity;LowDataHold"),
                stores: ["guardrails": #"["LowDataHold","Illiquidity","PledgeCap","HighRiskCap","SectorBear","LowCoverage"]"#]),
        .accept("one name", held("PledgeCap"), stores: ["guardrails": #"["PledgeCap"]"#]),
        .accept("no guardrails (NULL)", held(nil), stores: ["guardrails": "NULL"]),
        .reject("an unknown name in an array", held(#"["LowDataHold","MoonPhase"]"#), column: "guardrails", value: "MoonPhase",
                rule: "unknown guardrail"),
        .reject("an unknown name in a ; list", held("SectorBear;MoonPhase"), column: "guardrails", value: "MoonPhase",
                rule: "unknown guardrail"),
    ]

    @Test("guardrails: JSON array or ; / | list, stored as compact JSON in the engine's order", arguments: guardrailLists)
    func guardrailList(_ rule: RuleCase) async throws { try await checkRule(rule) }

    static let jsonRecords: [RuleCase] = [
        .accept("a JSON band spelling", RuleCase.scored("80", "strong_buy"), stores: ["band": "Strong Buy"]),
        .accept("a JSON lower-case mode and ticker", ["mode": "investor", "ticker": "m&m.ns"], stores: ["mode": "Investor", "ticker": "M&M.NS"]),
        .reject("a JSON z of 10.01", ["q_z": "10.01"], column: "q_z", value: "10.01", rule: "exceeds 10"),
        .reject("a JSON date 2023-02-29", ["scoring_date": "2023-02-29"], column: "scoring_date", value: "2023-02-29",
                rule: "is not a valid date"),
        .reject("a JSON band at the wrong score", RuleCase.scored("74.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: "expected Buy"),
    ]

    @Test("the same rules for JSON records (location: record N)", arguments: jsonRecords)
    func jsonRecord(_ rule: RuleCase) async throws { try await checkRule(rule, json: true) }
}
