/// Checks and normalises score records, encoding each good row as binary COPY data for the
/// writer that owns its key range.
///
/// Runs on one pipeline stage; it never builds a `String` for a good field, only for the
/// text of an error.
final class ScoreValidator {
    /// The output for one batch.
    struct Output: Sendable {
        /// COPY data per writer.
        var buffers: [[UInt8]]
        var goodRows = 0
        var errors: [RowError] = []
        /// How many records had at least one error.
        var rejectedRows = 0
        /// JSON lines for the rejects file: the raw record with its location and errors.
        var rejects: [String] = []
    }

    /// Fields per staged row: the 21 score columns, then the source file and line.
    static let stagedFields: Int16 = Int16(ScoreColumn.allCases.count + 2)

    let rules: ValidationRules
    let writerCount: Int
    let fileNames: [String]
    /// Dry runs find duplicate keys here instead of in the database (one entry per row).
    private var seenKeys: [UInt64: (file: Int, location: RowLocation)]?
    private var tickerScratch = [UInt8](repeating: 0, count: 64)

    init(rules: ValidationRules, writerCount: Int, fileNames: [String], findDuplicatesInMemory: Bool) {
        self.rules = rules
        self.writerCount = writerCount
        self.fileNames = fileNames
        seenKeys = findDuplicatesInMemory ? [:] : nil
    }

    func process(_ batch: RecordBatch, wantRejects: Bool) -> Output {
        var output = Output(buffers: Array(repeating: [], count: writerCount))
        var encoders = (0..<writerCount).map { _ in CopyEncoder(capacity: batch.count * 260 / max(1, writerCount) + 64) }
        output.errors = batch.errors
        output.rejectedRows = batch.errors.count
        let fileName = fileNames[batch.fileIndex]
        let width = RecordBatch.width
        batch.bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for record in 0..<batch.count {
                let location = batch.locations[record]
                var errors: [RowError] = []
                func fail(_ column: ScoreColumn, _ rule: String, value: String? = nil) {
                    errors.append(RowError(file: fileName, fileIndex: batch.fileIndex, location: location, column: column.name,
                                           value: value ?? batch.text(record: record, column: column.rawValue) ?? "", rule: rule))
                }
                @inline(__always) func field(_ column: ScoreColumn) -> (UnsafePointer<UInt8>, Int)? {
                    let slot = record * width + column.rawValue
                    let start = Int(batch.starts[slot])
                    return start < 0 ? nil : (base + start, Int(batch.lengths[slot]))
                }
                func number(_ column: ScoreColumn, min: Double, max: Double) -> Double? {
                    guard let (p, n) = field(column) else { return nil }
                    guard let value = ScoreValues.number(p, n) else { fail(column, "is not a number"); return nil }
                    guard value.isFinite else { fail(column, "is not a finite number"); return nil }
                    guard value >= min && value <= max else {
                        fail(column, "is outside [\(ScoreValues.show(min)), \(ScoreValues.show(max))]")
                        return nil
                    }
                    return value
                }
                func z(_ column: ScoreColumn) -> Double? {
                    guard let (p, n) = field(column) else { return nil }
                    guard let value = ScoreValues.number(p, n) else { fail(column, "is not a number"); return nil }
                    guard value.isFinite else { fail(column, "is not a finite number"); return nil }
                    guard abs(value) <= rules.maxAbsZ else { fail(column, "|z| exceeds \(ScoreValues.show(rules.maxAbsZ))"); return nil }
                    return value
                }
                func timestamp(_ column: ScoreColumn) -> Int64? {
                    guard let (p, n) = field(column) else { return nil }
                    switch Result(catching: { () throws(CivilTime.Failure) in try CivilTime.parse(p, n) }) {
                    case let .success(value): return value
                    case .failure(.syntax): fail(column, "is not a date (YYYY-MM-DD or an ISO 8601 date-time)")
                    case let .failure(.impossible(reason)): fail(column, "is not a valid date: \(reason)")
                    }
                    return nil
                }

                // The key.
                var tickerLength = 0
                if let (p, n) = field(.ticker), n > 0 {
                    if n <= tickerScratch.count {
                        for i in 0..<n { let c = p[i]; tickerScratch[i] = (c >= 97 && c <= 122) ? c - 32 : c }
                        tickerLength = n
                    }
                    if tickerLength == 0 || !tickerScratch.withUnsafeBufferPointer({ ScoreValues.isTicker($0.baseAddress!, n) }) {
                        fail(.ticker, "is not a ticker (A-Z, 0-9, & and -, at most 20 characters, optional .XX or .XXX exchange suffix)")
                        tickerLength = 0
                    }
                } else {
                    fail(.ticker, "is required")
                }
                var date: Int64?
                if field(.scoringDate) != nil { date = timestamp(.scoringDate) } else { fail(.scoringDate, "is required") }
                var mode: Int?
                if let (p, n) = field(.mode), n > 0 {
                    mode = ScoreValues.mode(p, n)
                    if mode == nil { fail(.mode, "is not a mode (Trader, Investor)") }
                } else {
                    fail(.mode, "is required")
                }

                // Values.
                let pillars = ScoreColumn.pillarScores.map { number($0, min: rules.scoreMin, max: rules.scoreMax) }
                let weighted = number(.weightedScore, min: rules.scoreMin, max: rules.scoreMax)
                let risk = number(.riskPenalty, min: 0, max: rules.riskPenaltyMax)
                let final = number(.finalScore, min: rules.scoreMin, max: rules.scoreMax)
                let zs = ScoreColumn.zScores.map { z($0) }
                let asOf = timestamp(.asOf)
                var band: Int?
                if let (p, n) = field(.band) {
                    band = ScoreValues.band(p, n)
                    if band == nil { fail(.band, "is not a band (\(ScoreValues.bandList))") }
                }
                var guardrails: UInt8?
                if let text = field(.guardrails).map({ String(decoding: UnsafeBufferPointer(start: $0.0, count: $0.1), as: UTF8.self) }) {
                    switch Result(catching: { () throws(ScoreValues.GuardrailFailure) in try ScoreValues.guardrailMask(text) }) {
                    case let .success(mask): guardrails = mask
                    case let .failure(.unknown(name)):
                        fail(.guardrails, "unknown guardrail \"\(name)\" (\(ScoreValues.guardrailList))", value: name)
                    case .failure(.malformed):
                        fail(.guardrails, "is not a list of guardrails (a JSON array of names, or names separated by ; or |)")
                    }
                }

                // Consistency, only between values that are themselves valid.
                let investorSectorBear = mode == 1 && (guardrails ?? 0) & ScoreValues.sectorBearBit != 0
                if rules.checkFinalScore, let weighted, let risk, let final {
                    var expected = Swift.max(0, weighted - risk)
                    if investorSectorBear { expected = Swift.max(0, expected - rules.sectorBearPenalty) }
                    if abs(final - expected) > rules.finalScoreTolerance {
                        let bear = investorSectorBear ? " - \(ScoreValues.show(rules.sectorBearPenalty)) (SectorBear, Investor)" : ""
                        fail(.finalScore, "does not equal max(0, weighted_score - risk_penalty)\(bear) = \(ScoreValues.twoDecimals(expected))")
                    }
                }
                if rules.checkBandConsistency, let band, let final, mode != nil {
                    var expected = final >= rules.strongBuyAt ? 0 : final >= rules.buyAt ? 1 : final >= rules.holdAt ? 2 : 3
                    let mask = guardrails ?? 0
                    let capping = (mask & ~ScoreValues.sectorBearBit) != 0 || (mask & ScoreValues.sectorBearBit != 0 && mode == 0)
                    if capping { expected = Swift.max(expected, ScoreValues.holdIndex) }
                    if band != expected {
                        let because = capping ? " with a capping guardrail" : ""
                        fail(.band, "does not match final_score \(ScoreValues.twoDecimals(final))\(because): expected \(ScoreValues.bands[expected])")
                    }
                }

                if let date, let mode, tickerLength > 0, let seen = seenKeys {
                    var hash = Self.keyHash(tickerScratch, tickerLength, date, mode)
                    if let first = seen[hash] {
                        fail(.ticker, "duplicate key (\(String(decoding: tickerScratch[0..<tickerLength], as: UTF8.self)), scoring_date, \(ScoreValues.modes[mode])): also at \(fileNames[first.file]):\(first.location)")
                        hash = 0
                    } else {
                        seenKeys![hash] = (batch.fileIndex, location)
                    }
                }

                guard errors.isEmpty, let date, let mode else {
                    output.rejectedRows += 1
                    output.errors += errors
                    if wantRejects { output.rejects.append(rejectLine(batch, record: record, fileName: fileName, errors: errors)) }
                    continue
                }

                // Encode for the writer that owns this ticker.
                let writer = writerCount == 1 ? 0 : Int(Self.tickerHash(tickerScratch, tickerLength) % UInt64(writerCount))
                encoders[writer].beginRow(fields: Self.stagedFields)
                tickerScratch.withUnsafeBytes { encoders[writer].text($0.baseAddress!, tickerLength) }
                encoders[writer].int8(date)
                encoders[writer].text(ScoreValues.modeBytes[mode])
                for value in pillars { encoders[writer].optionalFloat8(value) }
                encoders[writer].optionalFloat8(weighted)
                encoders[writer].optionalFloat8(risk)
                encoders[writer].optionalFloat8(final)
                if let band { encoders[writer].text(ScoreValues.bandBytes[band]) } else { encoders[writer].null() }
                if let guardrails { encoders[writer].text(ScoreValues.guardrailText[Int(guardrails)]) } else { encoders[writer].null() }
                if let asOf { encoders[writer].int8(asOf) } else { encoders[writer].null() }
                for value in zs { encoders[writer].optionalFloat8(value) }
                encoders[writer].int4(Int32(batch.fileIndex))
                encoders[writer].int8(Int64(location.ordinal))
                output.goodRows += 1
            }
        }
        output.buffers = encoders.map(\.bytes)
        return output
    }

    /// FNV-1a of the ticker: stable across processes and runs, so that a ticker always goes
    /// to the same writer for a given writer count.
    static func tickerHash(_ bytes: [UInt8], _ count: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<count { hash = (hash ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        return hash
    }

    static func keyHash(_ bytes: [UInt8], _ count: Int, _ date: Int64, _ mode: Int) -> UInt64 {
        var hash = tickerHash(bytes, count)
        for value in [UInt64(bitPattern: date), UInt64(mode)] {
            hash = (hash ^ value) &* 0x100_0000_01b3
        }
        return hash
    }

    private func rejectLine(_ batch: RecordBatch, record: Int, fileName: String, errors: [RowError]) -> String {
        var fields: [String] = []
        for column in ScoreColumn.allCases {
            if let text = batch.text(record: record, column: column.rawValue) {
                fields.append("\(JSONValue.quote(column.name)):\(JSONValue.quote(text))")
            }
        }
        let reasons = errors.map { JSONValue.quote($0.description) }.joined(separator: ",")
        return "{\"file\":\(JSONValue.quote(fileName)),\"location\":\(JSONValue.quote(batch.locations[record].description)),\"errors\":[\(reasons)],\"row\":{\(fields.joined(separator: ","))}}"
    }
}
