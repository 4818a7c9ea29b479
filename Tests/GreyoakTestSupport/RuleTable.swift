import Foundation
import GreyoakIngest
import Testing

// The validation rule table, one for both test targets: `GreyoakUnitTests` runs every case
// on the validator (`ValidatorRuleTests`), and `GreyoakIntegrationTests` runs a few of them
// end to end (`IngestValidationRuleTests`, ``RuleTable/endToEnd``).


/// One score row put through the parser and ``ScoreValidator``, and what must become of it:
/// the validation rule table, run on the validator itself (no database, no process). A few
/// of these cases also run end to end (``RuleTable/endToEnd``, `IngestValidationRuleTests`).
package struct RuleCase: Sendable, CustomTestStringConvertible {
    package enum Outcome: Sendable {
        /// Valid; these columns encode to what `scores` would read back (timestamps
        /// `YYYY-MM-DD HH:MM:SS`, NULL as "NULL").
        case stored([String: String])
        /// Refused: exactly one error, in this column, on this value, for this rule.
        case rejected(column: String, value: String, rule: RowError.Rule)
    }

    package var label: String
    package var overrides: [String: String?]
    package var flags: [String] = []
    /// The `--settings` file's text.
    package var settings: String?
    package var outcome: Outcome

    package var testDescription: String { label }

    package static func accept(_ label: String, _ overrides: [String: String?], stores: [String: String] = [:],
                       flags: [String] = [], settings: String? = nil) -> RuleCase {
        RuleCase(label: "accepts " + label, overrides: overrides, flags: flags, settings: settings, outcome: .stored(stores))
    }

    package static func reject(_ label: String, _ overrides: [String: String?], column: String, value: String, rule: RowError.Rule,
                       flags: [String] = [], settings: String? = nil) -> RuleCase {
        RuleCase(label: "rejects " + label, overrides: overrides, flags: flags, settings: settings,
                 outcome: .rejected(column: column, value: value, rule: rule))
    }

    /// Scores that make a consistent row for `final` and `band` (no risk penalty).
    package static func scored(_ final: String, _ band: String, weighted: String? = nil, risk: String = "0") -> [String: String?] {
        ["weighted_score": weighted ?? final, "risk_penalty": risk, "final_score": final, "band": band]
    }

    /// The rules the command line would build: `--settings` first, then the flags over it.
    package func rules() throws -> ValidationRules {
        var rules = try settings.map { try JSONDecoder().decode(ValidationRules.self, from: Data($0.utf8)) } ?? ValidationRules()
        for pair in stride(from: 0, to: flags.count - 1, by: 2) {
            let value = try #require(Double(flags[pair + 1]))
            switch flags[pair] {
            case "--strong-buy-at": rules.strongBuyAt = value
            case "--buy-at": rules.buyAt = value
            case "--hold-at": rules.holdAt = value
            case "--max-abs-z": rules.maxAbsZ = value
            default: Issue.record("unknown flag \(flags[pair])")
            }
        }
        return rules
    }

    /// A valid Trader row: pillars and weighted 70, no risk, final 70, Buy, no guardrails;
    /// then the case's overrides (nil: the field is empty, or absent from JSON).
    package var record: [String: String?] {
        var values: [String: String?] = [:]
        for column in ScoreColumn.allCases { values[column.name] = "0.5" }
        values["ticker"] = "RELIANCE.NS"
        values["scoring_date"] = "2024-10-08"
        values["mode"] = "Trader"
        for pillar in ScoreColumn.pillarScores { values[pillar.name] = "70" }
        values["weighted_score"] = "70"
        values["risk_penalty"] = "0"
        values["final_score"] = "70"
        values["band"] = "Buy"
        values["guardrails"] = .some(nil)
        values["as_of"] = "2024-10-08T10:30:00Z"
        for (column, value) in overrides { values[column] = .some(value) }
        return values
    }
}

/// The cases, by the rule they exercise.
package enum RuleTable {
    package static let modes: [RuleCase] = [
        .accept("mode Trader", ["mode": "Trader"], stores: ["mode": "Trader"]),
        .accept("mode trader", ["mode": "trader"], stores: ["mode": "Trader"]),
        .accept("mode TRADER", ["mode": "TRADER"], stores: ["mode": "Trader"]),
        .accept("mode investor", ["mode": "investor"], stores: ["mode": "Investor"]),
        .accept("mode iNVESTOR", ["mode": "iNVESTOR"], stores: ["mode": "Investor"]),
        .reject("mode Scalper", ["mode": "Scalper"], column: "mode", value: "Scalper", rule: .notAMode),
        .reject("mode Trade", ["mode": "Trade"], column: "mode", value: "Trade", rule: .notAMode),
        .reject("an empty mode", ["mode": nil], column: "mode", value: "", rule: .required),
    ]

    package static let bandSpellings: [RuleCase] = [
        .accept("band Strong Buy", RuleCase.scored("80", "Strong Buy"), stores: ["band": "Strong Buy"]),
        .accept("band strong_buy", RuleCase.scored("80", "strong_buy"), stores: ["band": "Strong Buy"]),
        .accept("band STRONG-BUY", RuleCase.scored("80", "STRONG-BUY"), stores: ["band": "Strong Buy"]),
        .accept("band strong buy", RuleCase.scored("80", "strong buy"), stores: ["band": "Strong Buy"]),
        .accept("band BUY", RuleCase.scored("70", "BUY"), stores: ["band": "Buy"]),
        .accept("band hold", RuleCase.scored("55", "hold"), stores: ["band": "Hold"]),
        .accept("band AVOID", RuleCase.scored("10", "AVOID"), stores: ["band": "Avoid"]),
        .accept("no band", RuleCase.scored("80", "x").merging(["band": nil]) { $1 }, stores: ["band": "NULL"]),
        .reject("band Stong Buy", RuleCase.scored("80", "Stong Buy"), column: "band", value: "Stong Buy",
                rule: .notABand),
        .reject("band StrongBuy", RuleCase.scored("80", "StrongBuy"), column: "band", value: "StrongBuy", rule: .notABand),
    ]

    package static let bandThresholds: [RuleCase] = [
        .accept("Strong Buy at 75", RuleCase.scored("75", "Strong Buy"), stores: ["final_score": "75", "band": "Strong Buy"]),
        .accept("Buy at 74.99", RuleCase.scored("74.99", "Buy"), stores: ["final_score": "74.99", "band": "Buy"]),
        .reject("Strong Buy at 74.99", RuleCase.scored("74.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: .bandMismatch(finalScore: 74.99, capped: false, expected: .buy)),
        .reject("Buy at 75", RuleCase.scored("75", "Buy"), column: "band", value: "Buy",
                rule: .bandMismatch(finalScore: 75, capped: false, expected: .strongBuy)),
        .accept("Buy at 65", RuleCase.scored("65", "Buy"), stores: ["band": "Buy"]),
        .accept("Hold at 64.99", RuleCase.scored("64.99", "Hold"), stores: ["band": "Hold"]),
        .reject("Buy at 64.99", RuleCase.scored("64.99", "Buy"), column: "band", value: "Buy",
                rule: .bandMismatch(finalScore: 64.99, capped: false, expected: .hold)),
        .reject("Hold at 65", RuleCase.scored("65", "Hold"), column: "band", value: "Hold",
                rule: .bandMismatch(finalScore: 65, capped: false, expected: .buy)),
        .accept("Hold at 50", RuleCase.scored("50", "Hold"), stores: ["band": "Hold"]),
        .accept("Avoid at 49.99", RuleCase.scored("49.99", "Avoid"), stores: ["band": "Avoid"]),
        .reject("Hold at 49.99", RuleCase.scored("49.99", "Hold"), column: "band", value: "Hold",
                rule: .bandMismatch(finalScore: 49.99, capped: false, expected: .avoid)),
        .reject("Avoid at 50", RuleCase.scored("50", "Avoid"), column: "band", value: "Avoid",
                rule: .bandMismatch(finalScore: 50, capped: false, expected: .hold)),
        .accept("Strong Buy at 100", RuleCase.scored("100", "Strong Buy"), stores: ["final_score": "100"]),
        .accept("Avoid at 0", RuleCase.scored("0", "Avoid"), stores: ["final_score": "0"]),
    ]

    package static func guarded(_ guardrails: String, _ final: String, _ band: String, mode: String = "Trader",
                        weighted: String? = nil) -> [String: String?] {
        RuleCase.scored(final, band, weighted: weighted).merging(["guardrails": guardrails, "mode": mode]) { $1 }
    }

    package static let guardrailCaps: [RuleCase] = [
        .accept("LowDataHold capping 80 at Hold", guarded("LowDataHold", "80", "Hold"), stores: ["band": "Hold"]),
        .reject("Strong Buy despite LowDataHold", guarded("LowDataHold", "80", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: .bandMismatch(finalScore: 80, capped: true, expected: .hold)),
        .accept("Illiquidity capping at Hold", guarded("Illiquidity", "80", "Hold"), stores: ["guardrails": #"["Illiquidity"]"#]),
        .accept("PledgeCap capping Buy at Hold", guarded("PledgeCap", "70", "Hold"), stores: ["band": "Hold"]),
        .reject("Buy despite PledgeCap", guarded("PledgeCap", "70", "Buy"), column: "band", value: "Buy",
                rule: .bandMismatch(finalScore: 70, capped: true, expected: .hold)),
        .accept("HighRiskCap capping at Hold (Investor)", guarded("HighRiskCap", "90", "Hold", mode: "Investor"),
                stores: ["band": "Hold"]),
        .accept("LowCoverage capping at Hold", guarded("LowCoverage", "76", "Hold"), stores: ["band": "Hold"]),
        .reject("Strong Buy despite LowCoverage (Investor)", guarded("LowCoverage", "80", "Strong Buy", mode: "Investor"),
                column: "band", value: "Strong Buy", rule: .bandMismatch(finalScore: 80, capped: true, expected: .hold)),
        .accept("a guardrail leaving Avoid as it is", guarded("LowDataHold", "40", "Avoid"), stores: ["band": "Avoid"]),
        .reject("a guardrail lifting Avoid to Hold", guarded("LowDataHold", "40", "Hold"), column: "band", value: "Hold",
                rule: .bandMismatch(finalScore: 40, capped: true, expected: .avoid)),
        .accept("SectorBear capping Trader at Hold", guarded("SectorBear", "80", "Hold"), stores: ["band": "Hold"]),
        .reject("Strong Buy despite SectorBear (Trader)", guarded("SectorBear", "80", "Strong Buy"), column: "band",
                value: "Strong Buy", rule: .bandMismatch(finalScore: 80, capped: true, expected: .hold)),
        .accept("SectorBear Investor: 5 off, band from the score", guarded("SectorBear", "80", "Strong Buy", mode: "Investor", weighted: "85"),
                stores: ["band": "Strong Buy", "final_score": "80", "weighted_score": "85"]),
        .reject("SectorBear Investor capped at Hold", guarded("SectorBear", "80", "Hold", mode: "Investor", weighted: "85"),
                column: "band", value: "Hold", rule: .bandMismatch(finalScore: 80, capped: false, expected: .strongBuy)),
        .accept("SectorBear and LowDataHold Investor: capped", guarded("SectorBear;LowDataHold", "80", "Hold", mode: "Investor", weighted: "85"),
                stores: ["band": "Hold"]),
        .reject("SectorBear and LowDataHold Investor: not capped", guarded("SectorBear;LowDataHold", "80", "Strong Buy", mode: "Investor", weighted: "85"),
                column: "band", value: "Strong Buy", rule: .bandMismatch(finalScore: 80, capped: true, expected: .hold)),
    ]

    package static let lowered = ["--strong-buy-at", "70", "--buy-at", "60", "--hold-at", "45"]
    package static let loweredFile = #"{"strong_buy_at": 70, "buy_at": 60, "hold_at": 45}"#

    package static let changedThresholds: [RuleCase] = [
        .reject("Strong Buy at 70 with the default thresholds", RuleCase.scored("70", "Strong Buy"), column: "band",
                value: "Strong Buy", rule: .bandMismatch(finalScore: 70, capped: false, expected: .buy)),
        .accept("Strong Buy at 70 with --strong-buy-at 70", RuleCase.scored("70", "Strong Buy"), stores: ["band": "Strong Buy"], flags: lowered),
        .reject("Strong Buy at 69.99 with --strong-buy-at 70", RuleCase.scored("69.99", "Strong Buy"), column: "band",
                value: "Strong Buy", rule: .bandMismatch(finalScore: 69.99, capped: false, expected: .buy), flags: lowered),
        .accept("Buy at 60 with --buy-at 60", RuleCase.scored("60", "Buy"), stores: ["band": "Buy"], flags: lowered),
        .accept("Hold at 59.99 with --buy-at 60", RuleCase.scored("59.99", "Hold"), stores: ["band": "Hold"], flags: lowered),
        .accept("Hold at 45 with --hold-at 45", RuleCase.scored("45", "Hold"), stores: ["band": "Hold"], flags: lowered),
        .reject("Hold at 44.99 with --hold-at 45", RuleCase.scored("44.99", "Hold"), column: "band", value: "Hold",
                rule: .bandMismatch(finalScore: 44.99, capped: false, expected: .avoid), flags: lowered),
        .accept("Strong Buy at 70 with --settings", RuleCase.scored("70", "Strong Buy"), stores: ["band": "Strong Buy"], settings: loweredFile),
        .reject("Strong Buy at 69.99 with --settings", RuleCase.scored("69.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: .bandMismatch(finalScore: 69.99, capped: false, expected: .buy), settings: loweredFile),
        .accept("Avoid at 44.99 with --settings", RuleCase.scored("44.99", "Avoid"), stores: ["band": "Avoid"], settings: loweredFile),
        .accept("a flag overriding --settings", RuleCase.scored("75", "Buy"), stores: ["band": "Buy"],
                flags: ["--strong-buy-at", "80"], settings: loweredFile),
        .accept("|z| 5 with max_abs_z 5 in --settings", ["t_z": "-5"], stores: ["t_z": "-5"], settings: #"{"max_abs_z": 5}"#),
        .reject("|z| 5.01 with max_abs_z 5 in --settings", ["t_z": "-5.01"], column: "t_z", value: "-5.01", rule: .zOutOfRange(limit: 5),
                settings: #"{"max_abs_z": 5}"#),
        .reject("risk 12.01 with risk_penalty_max 12 in --settings", RuleCase.scored("70", "Buy", weighted: "82.01", risk: "12.01"),
                column: "risk_penalty", value: "12.01", rule: .outOfRange(low: 0, high: 12), settings: #"{"risk_penalty_max": 12}"#),
        .accept("final 0.4 off with final_score_tolerance 0.5", RuleCase.scored("65.4", "Buy", weighted: "70", risk: "5"),
                stores: ["final_score": "65.4"], settings: #"{"final_score_tolerance": 0.5}"#),
    ]

    package static let zScores: [RuleCase] =
        ["f_z", "t_z", "r_z", "o_z", "q_z", "s_z"].flatMap { z -> [RuleCase] in
            [
                .accept("\(z) 10", [z: "10"], stores: [z: "10"]),
                .accept("\(z) -10", [z: "-10"], stores: [z: "-10"]),
                .reject("\(z) 10.01", [z: "10.01"], column: z, value: "10.01", rule: .zOutOfRange(limit: 10)),
            ]
        } + [
            .reject("z -10.01", ["s_z": "-10.01"], column: "s_z", value: "-10.01", rule: .zOutOfRange(limit: 10)),
            .accept("an empty z (NULL)", ["f_z": nil], stores: ["f_z": "NULL"]),
            .reject("z NaN", ["t_z": "NaN"], column: "t_z", value: "NaN", rule: .notFinite),
            .reject("z nan", ["t_z": "nan"], column: "t_z", value: "nan", rule: .notFinite),
            .reject("z inf", ["o_z": "inf"], column: "o_z", value: "inf", rule: .notFinite),
            .reject("z -Infinity", ["o_z": "-Infinity"], column: "o_z", value: "-Infinity", rule: .notFinite),
            .reject("z 1e309", ["s_z": "1e309"], column: "s_z", value: "1e309", rule: .notFinite),
            .reject("z abc", ["q_z": "abc"], column: "q_z", value: "abc", rule: .notANumber),
            .accept("|z| 5 with --max-abs-z 5", ["r_z": "5"], stores: ["r_z": "5"], flags: ["--max-abs-z", "5"]),
            .reject("|z| 5.01 with --max-abs-z 5", ["r_z": "5.01"], column: "r_z", value: "5.01", rule: .zOutOfRange(limit: 5), flags: ["--max-abs-z", "5"]),
            .accept("|z| 11.5 with --max-abs-z 12", ["r_z": "-11.5"], stores: ["r_z": "-11.5"], flags: ["--max-abs-z", "12"]),
        ]

    package static let ranges: [RuleCase] =
        ["f_score", "t_score", "r_score", "o_score", "q_score", "s_score"].flatMap { pillar -> [RuleCase] in
            [
                .accept("\(pillar) 0", [pillar: "0"], stores: [pillar: "0"]),
                .accept("\(pillar) 100", [pillar: "100"], stores: [pillar: "100"]),
                .reject("\(pillar) -0.01", [pillar: "-0.01"], column: pillar, value: "-0.01", rule: .outOfRange(low: 0, high: 100)),
                .reject("\(pillar) 100.01", [pillar: "100.01"], column: pillar, value: "100.01", rule: .outOfRange(low: 0, high: 100)),
            ]
        } + [
            .reject("weighted_score 100.01", ["weighted_score": "100.01"], column: "weighted_score", value: "100.01",
                    rule: .outOfRange(low: 0, high: 100)),
            .reject("final_score 100.01", RuleCase.scored("100.01", "Strong Buy", weighted: "100"), column: "final_score",
                    value: "100.01", rule: .outOfRange(low: 0, high: 100)),
            .reject("final_score -0.01", RuleCase.scored("-0.01", "Avoid", weighted: "0"), column: "final_score",
                    value: "-0.01", rule: .outOfRange(low: 0, high: 100)),
            .accept("risk_penalty 20", RuleCase.scored("70", "Buy", weighted: "90", risk: "20"), stores: ["risk_penalty": "20"]),
            .reject("risk_penalty 20.01", RuleCase.scored("70", "Buy", weighted: "90.01", risk: "20.01"), column: "risk_penalty",
                    value: "20.01", rule: .outOfRange(low: 0, high: 20)),
            .reject("risk_penalty -0.01", RuleCase.scored("70", "Buy", weighted: "69.99", risk: "-0.01"), column: "risk_penalty",
                    value: "-0.01", rule: .outOfRange(low: 0, high: 20)),
            .reject("r_score abc", ["r_score": "abc"], column: "r_score", value: "abc", rule: .notANumber),
            .accept("f_score 1e2", ["f_score": "1e2"], stores: ["f_score": "100"]),
            .accept("an empty pillar (NULL)", ["o_score": nil], stores: ["o_score": "NULL"]),
        ]

    package static let finalScores: [RuleCase] = [
        .accept("final = weighted - risk", RuleCase.scored("65", "Buy", weighted: "70", risk: "5"), stores: ["final_score": "65"]),
        .accept("final 0.01 above", RuleCase.scored("65.01", "Buy", weighted: "70", risk: "5"), stores: ["final_score": "65.01"]),
        .accept("final 0.01 below", RuleCase.scored("64.99", "Hold", weighted: "70", risk: "5"), stores: ["final_score": "64.99"]),
        .reject("final 0.02 above", RuleCase.scored("65.02", "Buy", weighted: "70", risk: "5"), column: "final_score", value: "65.02",
                rule: .finalScoreMismatch(expected: 65, sectorBearPenalty: nil)),
        .reject("final 0.02 below", RuleCase.scored("64.98", "Hold", weighted: "70", risk: "5"), column: "final_score", value: "64.98",
                rule: .finalScoreMismatch(expected: 65, sectorBearPenalty: nil)),
        .accept("final 0 when risk exceeds weighted", RuleCase.scored("0", "Avoid", weighted: "10", risk: "15"), stores: ["final_score": "0"]),
        .reject("final 1 when risk exceeds weighted", RuleCase.scored("1", "Avoid", weighted: "10", risk: "15"), column: "final_score",
                value: "1", rule: .finalScoreMismatch(expected: 0, sectorBearPenalty: nil)),
        .accept("SectorBear Investor: 5 off, band from the score", RuleTable.guarded("SectorBear", "80", "Strong Buy", mode: "Investor", weighted: "85"),
                stores: ["band": "Strong Buy", "final_score": "80", "weighted_score": "85", "guardrails": #"["SectorBear"]"#]),
        .accept("SectorBear Investor: 5 less", RuleTable.guarded("SectorBear", "65", "Buy", mode: "Investor", weighted: "70"),
                stores: ["final_score": "65"]),
        .accept("SectorBear Investor: 5 less and risk", RuleTable.guarded("SectorBear", "60", "Hold", mode: "Investor", weighted: "70")
                    .merging(["risk_penalty": "5"]) { $1 }, stores: ["final_score": "60", "risk_penalty": "5"]),
        .accept("SectorBear Investor: not below 0", RuleTable.guarded("SectorBear", "0", "Avoid", mode: "Investor", weighted: "3"),
                stores: ["final_score": "0"]),
        .reject("SectorBear Investor without the 5 points", RuleTable.guarded("SectorBear", "70", "Buy", mode: "Investor", weighted: "70"),
                column: "final_score", value: "70", rule: .finalScoreMismatch(expected: 65, sectorBearPenalty: 5)),
        .reject("SectorBear Trader with 5 points off", RuleTable.guarded("SectorBear", "65", "Hold", weighted: "70"),
                column: "final_score", value: "65", rule: .finalScoreMismatch(expected: 70, sectorBearPenalty: nil)),
    ]

    package static let tickers: [RuleCase] = [
        .accept("M&M.NS", ["ticker": "M&M.NS"], stores: ["ticker": "M&M.NS"]),
        .accept("BAJAJ-AUTO.NS", ["ticker": "BAJAJ-AUTO.NS"], stores: ["ticker": "BAJAJ-AUTO.NS"]),
        .accept("reliance.ns, stored upper case", ["ticker": "reliance.ns"], stores: ["ticker": "RELIANCE.NS"]),
        .accept("20 characters", ["ticker": "ABCDEFGHIJKLMNOPQ.NS"], stores: ["ticker": "ABCDEFGHIJKLMNOPQ.NS"]),
        .accept("20 lower-case characters", ["ticker": "abcdefghijklmnopq.bo"], stores: ["ticker": "ABCDEFGHIJKLMNOPQ.BO"]),
        .accept("no suffix", ["ticker": "RELIANCE"], stores: ["ticker": "RELIANCE"]),
        .reject("21 characters", ["ticker": "ABCDEFGHIJKLMNOPQR.NS"], column: "ticker", value: "ABCDEFGHIJKLMNOPQR.NS", rule: .notATicker),
        .reject("a .N suffix", ["ticker": "RELIANCE.N"], column: "ticker", value: "RELIANCE.N", rule: .notATicker),
        .reject("a .NSEX suffix", ["ticker": "RELIANCE.NSEX"], column: "ticker", value: "RELIANCE.NSEX", rule: .notATicker),
        .reject("a space", ["ticker": "RELI ANCE.NS"], column: "ticker", value: "RELI ANCE.NS", rule: .notATicker),
        .reject("a bare suffix", ["ticker": ".NS"], column: "ticker", value: ".NS", rule: .notATicker),
        .reject("two dots", ["ticker": "A.B.NS"], column: "ticker", value: "A.B.NS", rule: .notATicker),
        .reject("an empty ticker", ["ticker": nil], column: "ticker", value: "", rule: .required),
    ]

    package static let dates: [RuleCase] = [
        .accept("2024-10-08", ["scoring_date": "2024-10-08"], stores: ["scoring_date": "2024-10-08 00:00:00"]),
        .accept("2024-10-08T10:30:00Z", ["scoring_date": "2024-10-08T10:30:00Z"], stores: ["scoring_date": "2024-10-08 10:30:00"]),
        .accept("+05:30 stored as UTC", ["scoring_date": "2024-10-08T16:00:00+05:30"], stores: ["scoring_date": "2024-10-08 10:30:00"]),
        .accept("+05:30 across midnight", ["scoring_date": "2024-10-08T01:00:00+05:30"], stores: ["scoring_date": "2024-10-07 19:30:00"]),
        .accept("2024-02-29", ["scoring_date": "2024-02-29"], stores: ["scoring_date": "2024-02-29 00:00:00"]),
        .accept("2000-02-29", ["scoring_date": "2000-02-29"], stores: ["scoring_date": "2000-02-29 00:00:00"]),
        .reject("2023-02-29", ["scoring_date": "2023-02-29"], column: "scoring_date", value: "2023-02-29", rule: .impossibleDate(reason: "2023-02 has 28 days")),
        .reject("2024-02-30", ["scoring_date": "2024-02-30"], column: "scoring_date", value: "2024-02-30", rule: .impossibleDate(reason: "2024-02 has 29 days")),
        .reject("1900-02-29", ["scoring_date": "1900-02-29"], column: "scoring_date", value: "1900-02-29", rule: .impossibleDate(reason: "1900-02 has 28 days")),
        .reject("2024-04-31", ["scoring_date": "2024-04-31"], column: "scoring_date", value: "2024-04-31", rule: .impossibleDate(reason: "2024-04 has 30 days")),
        .reject("month 13", ["scoring_date": "2024-13-01"], column: "scoring_date", value: "2024-13-01", rule: .impossibleDate(reason: "month 13 does not exist")),
        .reject("hour 25", ["scoring_date": "2024-10-08T25:00:00Z"], column: "scoring_date", value: "2024-10-08T25:00:00Z",
                rule: .impossibleDate(reason: "25:00:00 is not a time of day")),
        .reject("08/10/2024", ["scoring_date": "08/10/2024"], column: "scoring_date", value: "08/10/2024", rule: .notADate),
        .reject("2024-10-8", ["scoring_date": "2024-10-8"], column: "scoring_date", value: "2024-10-8", rule: .notADate),
        .reject("an empty date", ["scoring_date": nil], column: "scoring_date", value: "", rule: .required),
        .accept("as_of with +05:30 stored as UTC", ["as_of": "2024-10-08T16:00:00+05:30"], stores: ["as_of": "2024-10-08 10:30:00"]),
        .accept("an empty as_of (NULL)", ["as_of": nil], stores: ["as_of": "NULL"]),
        .reject("as_of 2023-02-29", ["as_of": "2023-02-29T10:00:00Z"], column: "as_of", value: "2023-02-29T10:00:00Z",
                rule: .impossibleDate(reason: "2023-02 has 28 days")),
    ]

    package static func held(_ guardrails: String?) -> [String: String?] {
        RuleCase.scored("60", "Hold").merging(["guardrails": guardrails]) { $1 }
    }

    package static let guardrailLists: [RuleCase] = [
        .accept("a JSON array", held(#"["LowDataHold","SectorBear"]"#), stores: ["guardrails": #"["LowDataHold","SectorBear"]"#]),
        .accept("a reversed JSON array", held(#"["SectorBear", "LowDataHold"]"#), stores: ["guardrails": #"["LowDataHold","SectorBear"]"#]),
        .accept("a ; list", held("SectorBear;LowDataHold"), stores: ["guardrails": #"["LowDataHold","SectorBear"]"#]),
        .accept("a | list", held("LowCoverage|Illiquidity"), stores: ["guardrails": #"["Illiquidity","LowCoverage"]"#]),
        .accept("all six reversed", held("LowCoverage;SectorBear;HighRiskCap;PledgeCap;Illiquidity;LowDataHold"),
                stores: ["guardrails": #"["LowDataHold","Illiquidity","PledgeCap","HighRiskCap","SectorBear","LowCoverage"]"#]),
        .accept("one name", held("PledgeCap"), stores: ["guardrails": #"["PledgeCap"]"#]),
        .accept("no guardrails (NULL)", held(nil), stores: ["guardrails": "NULL"]),
        .reject("an unknown name in an array", held(#"["LowDataHold","MoonPhase"]"#), column: "guardrails", value: "MoonPhase",
                rule: .unknownGuardrail("MoonPhase")),
        .reject("an unknown name in a ; list", held("SectorBear;MoonPhase"), column: "guardrails", value: "MoonPhase",
                rule: .unknownGuardrail("MoonPhase")),
    ]

    package static let jsonRecords: [RuleCase] = [
        .accept("a JSON band spelling", RuleCase.scored("80", "strong_buy"), stores: ["band": "Strong Buy"]),
        .accept("a JSON lower-case mode and ticker", ["mode": "investor", "ticker": "m&m.ns"], stores: ["mode": "Investor", "ticker": "M&M.NS"]),
        .reject("a JSON z of 10.01", ["q_z": "10.01"], column: "q_z", value: "10.01", rule: .zOutOfRange(limit: 10)),
        .reject("a JSON date 2023-02-29", ["scoring_date": "2023-02-29"], column: "scoring_date", value: "2023-02-29",
                rule: .impossibleDate(reason: "2023-02 has 28 days")),
        .reject("a JSON band at the wrong score", RuleCase.scored("74.99", "Strong Buy"), column: "band", value: "Strong Buy",
                rule: .bandMismatch(finalScore: 74.99, capped: false, expected: .buy)),
    ]

    /// The cases `IngestValidationRuleTests` also runs through `greyoak ingest` (flags and
    /// `--settings`, the error line, what `scores` reads back), by label without its
    /// "accepts "/"rejects ".
    package static let endToEnd = pick([
        "mode iNVESTOR", "mode Scalper", "band strong_buy", "Strong Buy at 74.99", "SectorBear Investor: 5 off, band from the score",
        "z 1e309", "+05:30 stored as UTC", "2024-02-30", "all six reversed", "Strong Buy at 70 with --settings",
        "a flag overriding --settings", "|z| 5.01 with --max-abs-z 5",
    ], from: modes + bandSpellings + bandThresholds + finalScores + zScores + dates + guardrailLists + changedThresholds)

    /// The JSON cases run end to end.
    package static let endToEndJSON = pick(["a JSON lower-case mode and ticker", "a JSON band at the wrong score"], from: jsonRecords)

    private static func pick(_ names: [String], from cases: [RuleCase]) -> [RuleCase] {
        names.map { name in
            guard let found = cases.first(where: { $0.label == "accepts " + name || $0.label == "rejects " + name }) else {
                preconditionFailure("no rule case \(name)")
            }
            return found
        }
    }
}
