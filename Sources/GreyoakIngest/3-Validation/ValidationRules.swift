import Foundation
import GreyoakPostgres

/// The validation rules' limits, each one a setting (flag or `--settings FILE` entry).
public struct ValidationRules: Sendable, Codable, Equatable {
    /// Inclusive lower bounds of the bands on the final score.
    public var strongBuyAt: Double = 75
    public var buyAt: Double = 65
    public var holdAt: Double = 50
    /// Largest |z| accepted.
    public var maxAbsZ: Double = 10
    public var scoreMin: Double = 0
    public var scoreMax: Double = 100
    public var riskPenaltyMax: Double = 20
    /// How far final_score may sit from max(0, weighted - risk) (2-decimal rounding of three values).
    public var finalScoreTolerance: Double = 0.015
    /// Points Investor-mode SectorBear takes off the final score.
    public var sectorBearPenalty: Double = 5
    /// Check band against final_score and guardrails.
    public var checkBandConsistency = true
    /// Check final_score against weighted_score and risk_penalty.
    public var checkFinalScore = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case strongBuyAt = "strong_buy_at", buyAt = "buy_at", holdAt = "hold_at", maxAbsZ = "max_abs_z"
        case scoreMin = "score_min", scoreMax = "score_max", riskPenaltyMax = "risk_penalty_max"
        case finalScoreTolerance = "final_score_tolerance", sectorBearPenalty = "sector_bear_penalty"
        case checkBandConsistency = "check_band", checkFinalScore = "check_final_score"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ValidationRules.defaults
        strongBuyAt = try c.decodeIfPresent(Double.self, forKey: .strongBuyAt) ?? d.strongBuyAt
        buyAt = try c.decodeIfPresent(Double.self, forKey: .buyAt) ?? d.buyAt
        holdAt = try c.decodeIfPresent(Double.self, forKey: .holdAt) ?? d.holdAt
        maxAbsZ = try c.decodeIfPresent(Double.self, forKey: .maxAbsZ) ?? d.maxAbsZ
        scoreMin = try c.decodeIfPresent(Double.self, forKey: .scoreMin) ?? d.scoreMin
        scoreMax = try c.decodeIfPresent(Double.self, forKey: .scoreMax) ?? d.scoreMax
        riskPenaltyMax = try c.decodeIfPresent(Double.self, forKey: .riskPenaltyMax) ?? d.riskPenaltyMax
        finalScoreTolerance = try c.decodeIfPresent(Double.self, forKey: .finalScoreTolerance) ?? d.finalScoreTolerance
        sectorBearPenalty = try c.decodeIfPresent(Double.self, forKey: .sectorBearPenalty) ?? d.sectorBearPenalty
        checkBandConsistency = try c.decodeIfPresent(Bool.self, forKey: .checkBandConsistency) ?? d.checkBandConsistency
        checkFinalScore = try c.decodeIfPresent(Bool.self, forKey: .checkFinalScore) ?? d.checkFinalScore
    }

    static let defaults = ValidationRules()

    /// Reads a JSON settings file; unknown keys are errors so that typos do not pass silently.
    public static func load(path: String) throws -> ValidationRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GreyoakError(.usage, "cannot read settings file \(path)")
        }
        return try parse(data, path: path)
    }

    /// Reads the settings in a settings file's bytes; `path` is for messages.
    package static func parse(_ data: Data, path: String) throws -> ValidationRules {
        do {
            if let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
                let known = Set([CodingKeys.strongBuyAt, .buyAt, .holdAt, .maxAbsZ, .scoreMin, .scoreMax, .riskPenaltyMax,
                                 .finalScoreTolerance, .sectorBearPenalty, .checkBandConsistency, .checkFinalScore].map(\.rawValue))
                if let bad = object.keys.sorted().first(where: { !known.contains($0) }) {
                    throw GreyoakError(.usage, "\(path): unknown setting \"\(bad)\" (known: \(known.sorted().joined(separator: ", ")))")
                }
            }
            return try JSONDecoder().decode(ValidationRules.self, from: data)
        } catch let error as GreyoakError {
            throw error
        } catch {
            throw GreyoakError(.usage, "\(path): not a valid settings file: \(error)")
        }
    }
}
