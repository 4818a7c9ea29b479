/// The columns of `scores` that a score file can fill, in staging-table order.
public enum ScoreColumn: Int, CaseIterable, Sendable {
    case ticker, scoringDate, mode
    case fScore, tScore, rScore, oScore, qScore, sScore
    case weightedScore, riskPenalty, finalScore
    case band, guardrails, asOf
    case fZ, tZ, rZ, oZ, qZ, sZ

    /// The column's name in `scores`.
    public var name: String {
        switch self {
        case .ticker: "ticker"
        case .scoringDate: "scoring_date"
        case .mode: "mode"
        case .fScore: "f_score"
        case .tScore: "t_score"
        case .rScore: "r_score"
        case .oScore: "o_score"
        case .qScore: "q_score"
        case .sScore: "s_score"
        case .weightedScore: "weighted_score"
        case .riskPenalty: "risk_penalty"
        case .finalScore: "final_score"
        case .band: "band"
        case .guardrails: "guardrails"
        case .asOf: "as_of"
        case .fZ: "f_z"
        case .tZ: "t_z"
        case .rZ: "r_z"
        case .oZ: "o_z"
        case .qZ: "q_z"
        case .sZ: "s_z"
        }
    }

    public static let pillarScores: [ScoreColumn] = [.fScore, .tScore, .rScore, .oScore, .qScore, .sScore]
    public static let zScores: [ScoreColumn] = [.fZ, .tZ, .rZ, .oZ, .qZ, .sZ]
    public static let required: [ScoreColumn] = [.ticker, .scoringDate, .mode]

    /// What an input field name means: a column, a field we knowingly drop, or nothing we know.
    public enum FieldMeaning: Equatable, Sendable {
        case column(ScoreColumn)
        case ignored
        case unknown
    }

    /// Maps a field name from any shape the Python GreyOak stack writes: `scores` column
    /// names, the API's (`date`, `score`, `pillars.F`, `guardrail_flags`) and the legacy
    /// table's (`f_pillar`...). Matching ignores letter case.
    public static func meaning(ofField field: String) -> FieldMeaning {
        let key = field.trimmingCharacters(in: .whitespaces).lowercased()
        if let column = byName[key] { return .column(column) }
        if ignoredFields.contains(key) { return .ignored }
        return .unknown
    }

    /// Fields the Python stack writes that have no column; dropped with one notice per file.
    static let ignoredFields: Set<String> = ["confidence", "config_hash", "id", "created_at", "updated_at", "sector"]

    private static let byName: [String: ScoreColumn] = {
        var map: [String: ScoreColumn] = [:]
        for column in ScoreColumn.allCases { map[column.name] = column }
        map["date"] = .scoringDate
        map["score"] = .finalScore
        map["guardrail_flags"] = .guardrails
        for (letter, column) in zip(["f", "t", "r", "o", "q", "s"], pillarScores) {
            map["pillars.\(letter)"] = column
            map["\(letter)_pillar"] = column
        }
        return map
    }()
}

import Foundation
