import Foundation
import GreyoakPostgres

/// Checks and normalises score records, encoding each good row as binary COPY data for the
/// writer that owns its key range.
///
/// The hot path of a load: per row it touches only preallocated scratch space, builds no
/// `String` for a good field, and allocates only for the text of an error.
package final class ScoreValidator {
    /// The output for one batch.
    package struct Output {
        /// COPY rows per writer (each handed on whole; see ``ByteBuffer``), with their keys
        /// when they go straight into `scores`.
        package var chunks: [CopyChunk]
        var goodRows = 0
        /// The first errors: at most ``ScoreValidator/errorsToKeep`` over all batches.
        package var errors: [RowError] = []
        /// Every error, kept or not.
        var errorCount = 0
        /// How many records had at least one error.
        var rejectedRows = 0
        /// JSON lines for the rejects file, one per rejected record (the parser's included):
        /// the raw record with its location and errors.
        var rejects: [String] = []
        /// Good rows equal to what `scores` holds (``LoadMode/compare``): not sent.
        var unchanged = 0
        /// Rows of dates no bounded partition holds (see ``newPartitions``), with their keys.
        var attach: CopyChunk?
    }

    /// A partitioned `scores` whose new partitions this load makes: rows of dates no bounded
    /// partition holds go to ``Output/attach``, not to a writer (see ``AttachSpool``).
    var newPartitions: PartitionLayout?
    /// With `--on-duplicate last`: the keys of those rows that may repeat (the writers'
    /// filter has the rest), for ``AttachBuilder`` to keep the last of each.
    private(set) var attachDuplicates: DuplicateFilter?

    /// Encode rows for `COPY scores` (no source columns) instead of the staging table.
    var direct = false
    /// ``LoadMode/compare``: rows equal to the row of their key in `scores` are not sent.
    var existing: ExistingRows?
    /// How many errors the outputs keep, all batches together, for the message; the rest
    /// are only counted, so that a file of millions of bad rows costs no memory for them.
    var errorsToKeep = Int.max
    private var errorsKept = 0
    /// Value slots: six pillars, weighted, risk, final, six z-scores, as the row holds them.
    private static let valueColumns = ScoreCopyRow.valueColumns
    private static let weightedSlot = ScoreCopyRow.weightedSlot, riskSlot = ScoreCopyRow.riskSlot, finalSlot = ScoreCopyRow.finalSlot

    let rules: ValidationRules
    let writerCount: Int
    let fileNames: [String]
    /// Per file: whether locations are CSV lines (else JSON records).
    let fileByLine: [Bool]
    let duplicatePolicy: DuplicatePolicy
    /// Dry runs find repeated keys here instead of in the database: remembered exactly (all
    /// of them, or only `onlyKeys`), or screened (see ``InMemoryDuplicateCheck``).
    private let seenKeys: KeyTable?
    private let onlyKeys: Set<UInt64>?
    let screen: KeyScreen?
    /// Real runs narrow the database's duplicate check down to these candidates.
    private(set) var duplicates: DuplicateFilter?

    // Per-row scratch, reused.
    private var errors: [RowError] = []
    private let values = UnsafeMutablePointer<Double>.allocate(capacity: 15)
    private var present: UInt32 = 0
    private let ticker = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    private var tickerLength = 0
    private var batch: RecordBatch!
    private var record = 0
    private var fileName = ""

    /// - Parameter inMemory: How a dry run finds repeated keys; nil for a load, which leaves
    ///   the exact check to the database and keeps a ``DuplicateFilter`` for it.
    package init(rules: ValidationRules, writerCount: Int, files: [InputFile], duplicatePolicy: DuplicatePolicy,
         inMemory: InMemoryDuplicateCheck?) {
        self.rules = rules
        self.writerCount = writerCount
        self.fileNames = files.map(\.name)
        self.fileByLine = files.map { $0.format == .csv }
        self.duplicatePolicy = duplicatePolicy
        switch inMemory {
        case nil:
            (seenKeys, onlyKeys, screen) = (nil, nil, nil)
            duplicates = DuplicateFilter(writers: writerCount)
        case .screen:
            (seenKeys, onlyKeys, screen) = (nil, nil, KeyScreen())
        case let .exact(candidates):
            (seenKeys, onlyKeys, screen) = (KeyTable(), candidates, nil)
        }
    }

    deinit {
        values.deallocate()
        ticker.deallocate()
    }

    /// - Throws: Only in ``LoadMode/compare``: ``ExistingRows/Abandoned``, or the error of
    ///   reading `scores`.
    package func process(_ batch: RecordBatch, wantRejects: Bool) throws -> Output {
        self.batch = batch
        defer { self.batch = nil }
        fileName = fileNames[batch.fileIndex]
        let perWriter = batch.count / max(1, writerCount) + 16
        var output = Output(chunks: (0..<writerCount).map { _ in
            var chunk = CopyChunk(rows: ByteBuffer(capacity: perWriter * 250))
            if direct { chunk.keys.reserveCapacity(perWriter) }
            return chunk
        })
        let encoders = output.chunks.map { CopyEncoder(buffer: $0.rows) }
        if newPartitions != nil {
            output.attach = CopyChunk(rows: ByteBuffer(capacity: batch.count * 64))
            if duplicatePolicy == .last, duplicates != nil, attachDuplicates == nil { attachDuplicates = DuplicateFilter(writers: 1) }
        }
        let attachEncoder = output.attach.map { CopyEncoder(buffer: $0.rows) }
        let faults = batch.faults
        var nextFault = 0
        for record in 0..<batch.count {
            self.record = record
            errors.removeAll(keepingCapacity: true)
            let key: Key?
            if nextFault < faults.count, faults[nextFault].record == record {
                // The parser rejected it: its fields are not a row to judge.
                errors.append(faults[nextFault].error)
                nextFault += 1
                key = nil
            } else {
                key = validateRecord()
            }
            guard let key else {
                output.rejectedRows += 1
                output.errorCount += errors.count
                if errorsKept < errorsToKeep {
                    let kept = errors.prefix(errorsToKeep - errorsKept)
                    output.errors += kept
                    errorsKept += kept.count
                }
                if wantRejects { output.rejects.append(rejectLine()) }
                continue
            }
            output.goodRows += 1
            // A dry run (no writers) has nowhere to send rows.
            guard writerCount > 0 else { continue }
            if let attachEncoder, newPartitions!.isNew(key.date) {
                let row = ScoreCopyRow.encode(into: attachEncoder, staged: nil, ticker: ticker, tickerLength: tickerLength, date: key.date,
                                              mode: key.mode, values: values, present: present, band: key.band,
                                              guardrails: key.guardrails, asOf: key.asOf)
                output.attach!.keys.append(row)
                attachDuplicates?.insert(hash: Self.keyHash(ticker, tickerLength, key.date, key.mode), writer: 0,
                                         ticker: ticker, tickerLength: tickerLength, date: key.date, mode: key.mode)
                continue
            }
            let writer = writerCount == 1 ? 0 : Int(Self.tickerHash(ticker, tickerLength) % UInt64(writerCount))
            let row = ScoreCopyRow.encode(into: encoders[writer], staged: direct ? nil : (Int32(batch.fileIndex), Int64(batch.ordinal(record))),
                                          ticker: ticker, tickerLength: tickerLength, date: key.date, mode: key.mode, values: values,
                                          present: present, band: key.band, guardrails: key.guardrails, asOf: key.asOf)
            if direct {
                // What the writer sorts by: the key, without reading the row again.
                output.chunks[writer].keys.append(row)
                continue
            }
            if let existing, try isUnchanged(output.chunks[writer].rows, row: row.offset, date: key.date, mode: key.mode, in: existing) {
                output.chunks[writer].rows.truncate(to: row.offset)
                output.unchanged += 1
                continue
            }
            // The direct path (above) needs no filter: the primary key itself stops a repeated key.
            if let duplicates {
                duplicates.insert(hash: Self.keyHash(ticker, tickerLength, key.date, key.mode), writer: writer,
                                   ticker: ticker, tickerLength: tickerLength, date: key.date, mode: key.mode)
            }
        }
        return output
    }

    /// Whether the staged row just encoded at `row` equals `scores`' row of its key: its 21
    /// columns come after the field count (the source file and line after them).
    @inline(__always)
    private func isUnchanged(_ buffer: ByteBuffer, row: Int, date: Int64, mode: Mode, in existing: ExistingRows) throws -> Bool {
        let fields = UnsafeRawPointer(buffer.base + row + 2), keyLength = ScoreCopyRow.keyLength(tickerLength: tickerLength, mode: mode)
        return try existing.classify(date: date, key: RowFingerprint.key(fields: fields, keyLength: keyLength),
                                     row: RowFingerprint.row(fields: fields, keyLength: keyLength)) == .unchanged
    }

    private struct Key {
        var date: Int64
        var mode: Mode
        var band: Band?
        var guardrails: UInt8?
        var asOf: Int64?
    }

    /// Checks one record; nil when it has errors (they are in ``errors``).
    @inline(__always)
    private func validateRecord() -> Key? {
        // The key.
        tickerLength = 0
        if let (p, n) = field(.ticker), n > 0 {
            if n <= 20 {
                for i in 0..<n { let c = p[i]; ticker[i] = (c >= 97 && c <= 122) ? c - 32 : c }
                tickerLength = n
            }
            if tickerLength == 0 || !ScoreValues.isTicker(ticker, n) {
                fail(.ticker, .notATicker)
                tickerLength = 0
            }
        } else {
            fail(.ticker, .required)
        }
        var date: Int64?
        if field(.scoringDate) != nil { date = timestamp(.scoringDate) } else { fail(.scoringDate, .required) }
        var mode: Mode?
        if let (p, n) = field(.mode), n > 0 {
            mode = Mode.parse(p, n)
            if mode == nil { fail(.mode, .notAMode) }
        } else {
            fail(.mode, .required)
        }

        // Values.
        present = 0
        for slot in 0..<15 {
            let column = Self.valueColumns[slot]
            guard let (p, n) = field(column) else { continue }
            guard let value = ScoreValues.number(p, n) else { fail(column, .notANumber); continue }
            guard value.isFinite else { fail(column, .notFinite); continue }
            if slot >= 9 {
                guard abs(value) <= rules.maxAbsZ else { fail(column, .zOutOfRange(limit: rules.maxAbsZ)); continue }
            } else {
                let high = slot == Self.riskSlot ? rules.riskPenaltyMax : rules.scoreMax
                let low = slot == Self.riskSlot ? 0 : rules.scoreMin
                guard value >= low && value <= high else {
                    fail(column, .outOfRange(low: low, high: high))
                    continue
                }
            }
            values[slot] = value
            present |= 1 << UInt32(slot)
        }
        let asOf = field(.asOf) == nil ? nil : timestamp(.asOf)
        var band: Band?
        if let (p, n) = field(.band) {
            band = Band.parse(p, n)
            if band == nil { fail(.band, .notABand) }
        }
        var guardrails: UInt8?
        if let (p, n) = field(.guardrails) {
            switch guardrailMask(p, n) {
            // An empty list and an absent field both say "no guardrails": stored as NULL
            // either way, so that CSV, JSON and the API's `[]` load the same.
            case let .success(mask): guardrails = mask == 0 ? nil : mask
            case let .failure(.unknown(name)):
                fail(.guardrails, .unknownGuardrail(name), value: name)
            case .failure(.malformed):
                fail(.guardrails, .notAGuardrailList)
            }
        }

        // Consistency, only between values that are themselves valid.
        let final = value(Self.finalSlot)
        let investorSectorBear = mode == .investor && (guardrails ?? 0) & ScoreValues.sectorBearBit != 0
        if rules.checkFinalScore, let weighted = value(Self.weightedSlot), let risk = value(Self.riskSlot), let final {
            var expected = max(0, weighted - risk)
            if investorSectorBear { expected = max(0, expected - rules.sectorBearPenalty) }
            if abs(final - expected) > rules.finalScoreTolerance {
                fail(.finalScore, .finalScoreMismatch(expected: expected, sectorBearPenalty: investorSectorBear ? rules.sectorBearPenalty : nil))
            }
        }
        if rules.checkBandConsistency, let band, let final, let mode {
            var expected = Band.earned(by: final, rules: rules)
            let mask = guardrails ?? 0
            let capping = (mask & ~ScoreValues.sectorBearBit) != 0 || (mask & ScoreValues.sectorBearBit != 0 && mode == .trader)
            // A capping guardrail allows Hold at best.
            if capping { expected = max(expected, .hold) }
            if band != expected {
                fail(.band, .bandMismatch(finalScore: final, capped: capping, expected: expected))
            }
        }

        if let date, let mode, tickerLength > 0, seenKeys != nil || screen != nil {
            let hash = Self.keyHash(ticker, tickerLength, date, mode)
            if let screen {
                screen.insert(hash)
            } else if let seenKeys, onlyKeys?.contains(hash) ?? true {
                let place = UInt64(batch.fileIndex) << 40 | UInt64(batch.ordinal(record))
                if let first = seenKeys.insert(hash, place, replace: duplicatePolicy == .last), duplicatePolicy == .error {
                    let firstFile = Int(first >> 40), firstOrdinal = Int(first & 0xFF_FFFF_FFFF)
                    let firstLocation = fileByLine[firstFile] ? RowLocation.line(firstOrdinal) : .record(firstOrdinal)
                    let text = String(decoding: UnsafeBufferPointer(start: ticker, count: tickerLength), as: UTF8.self)
                    fail(.ticker, .duplicateKey(ticker: text, date: Self.dateText(date), mode: mode.name, firstFile: fileNames[firstFile],
                                                firstLocation: firstLocation, morePlaces: 0), value: text)
                }
            }
        }
        guard errors.isEmpty, let date, let mode else { return nil }
        return Key(date: date, mode: mode, band: band, guardrails: guardrails, asOf: asOf)
    }

    /// Guardrail lists seen so far, by FNV hash: most rows repeat one of a few spellings,
    /// so this parses each spelling once and allocates nothing on a hit.
    private var guardrailCache: [UInt64: (bytes: [UInt8], mask: UInt8)] = [:]

    private func guardrailMask(_ p: UnsafePointer<UInt8>, _ n: Int) -> Result<UInt8, ScoreValues.GuardrailFailure> {
        let hash = Self.tickerHash(p, n)
        if let hit = guardrailCache[hash], hit.bytes.count == n, memcmp(hit.bytes, p, n) == 0 { return .success(hit.mask) }
        let bytes = Array(UnsafeBufferPointer(start: p, count: n))
        let result = Result { () throws(ScoreValues.GuardrailFailure) in try ScoreValues.guardrailMask(String(decoding: bytes, as: UTF8.self)) }
        if case let .success(mask) = result, guardrailCache.count < 4096 { guardrailCache[hash] = (bytes, mask) }
        return result
    }

    @inline(__always) private func value(_ slot: Int) -> Double? {
        present & (1 << UInt32(slot)) != 0 ? values[slot] : nil
    }

    @inline(__always) private func field(_ column: ScoreColumn) -> (UnsafePointer<UInt8>, Int)? {
        batch.field(record, column)
    }

    private func timestamp(_ column: ScoreColumn) -> Int64? {
        guard let (p, n) = field(column) else { return nil }
        switch Result(catching: { () throws(CivilTime.Failure) in try CivilTime.parse(p, n) }) {
        case let .success(value): return value
        case .failure(.syntax): fail(column, .notADate)
        case let .failure(.impossible(reason)): fail(column, .impossibleDate(reason: reason))
        }
        return nil
    }

    private func fail(_ column: ScoreColumn, _ rule: RowError.Rule, value: String? = nil) {
        errors.append(RowError(file: fileName, fileIndex: batch.fileIndex, location: batch.location(record), column: column.name,
                               value: value ?? batch.text(record: record, column: column) ?? "", rule: rule))
    }

    /// FNV-1a of the ticker: stable across processes and runs, so that a ticker always goes
    /// to the same writer for a given writer count.
    @inline(__always)
    static func tickerHash(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<count { hash = (hash ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        return hash
    }

    static func keyHash(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ date: Int64, _ mode: Mode) -> UInt64 {
        var hash = tickerHash(bytes, count)
        hash = (hash ^ UInt64(bitPattern: date)) &* 0x100_0000_01b3
        hash = (hash ^ UInt64(mode.rawValue)) &* 0x100_0000_01b3
        return hash
    }

    static func dateText(_ micros: Int64) -> String {
        micros % 86_400_000_000 == 0 ? CivilTime.format(micros, dateOnly: true) : CivilTime.format(micros)
    }

    /// The valid scoring dates of a batch, for choosing how to load before any row is sent.
    static func dates(of batch: RecordBatch) -> Set<Int64> {
        var dates = Set<Int64>()
        let faulted = Set(batch.faults.map(\.record))
        for record in 0..<batch.count where !faulted.contains(record) {
            guard let (p, n) = batch.field(record, .scoringDate) else { continue }
            if let micros = try? CivilTime.parse(p, n) { dates.insert(micros) }
        }
        return dates
    }

    private func rejectLine() -> String {
        var fields: [String] = []
        for column in ScoreColumn.allCases {
            if let text = batch.text(record: record, column: column) {
                fields.append("\(JSONValue.quote(column.name)):\(JSONValue.quote(text))")
            }
        }
        let reasons = errors.map { JSONValue.quote($0.description) }.joined(separator: ",")
        // The rules by code, in the order of `errors`: what scripts match on.
        let codes = errors.map { "{\"column\":\($0.column.map(JSONValue.quote) ?? "null"),\"rule\":\(JSONValue.quote($0.rule.code))}" }
        return "{\"file\":\(JSONValue.quote(fileName)),\"location\":\(JSONValue.quote(batch.location(record).description)),\"errors\":[\(reasons)],\"rules\":[\(codes.joined(separator: ","))],\"row\":{\(fields.joined(separator: ","))}}"
    }
}
