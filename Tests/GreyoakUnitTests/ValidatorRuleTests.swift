import Foundation
import Testing
import GreyoakIngest
import GreyoakTestSupport

/// What the validator made of one file: its errors, and each good row as `scores` would
/// store it (decoded from the binary COPY data; nil for NULL).
struct ValidatorRun {
    var errors: [RowError] = []
    var rows: [[String: String?]] = []

    /// Parses `text` as `format` and validates it, as one run's parser and validator would.
    ///
    /// - Parameter inMemory: How repeated keys are found with no database (nil: not at all).
    static func run(_ text: String, format: InputFormat, name: String? = nil, rules: ValidationRules = ValidationRules(),
                    inMemory: InMemoryDuplicateCheck? = nil) throws -> ValidatorRun {
        let file = InputFile(name: name ?? "rule." + format.rawValue, path: nil, format: format, gzipped: false)
        var batches: [RecordBatch] = []
        let emit: (RecordBatch) throws -> Void = { batches.append($0) }
        let parser: any RecordParser = format == .csv
            ? try CSVRecordParser(file: file, fileIndex: 0, batchSize: 64, ignoreUnknownFields: false, notices: { _ in }, emit: emit)
            : JSONRecordParser(file: file, fileIndex: 0, batchSize: 64, ignoreUnknownFields: false, notices: { _ in }, emit: emit)
        try parser.feed(Array(text.utf8))
        try parser.finish()
        let validator = ScoreValidator(rules: rules, writerCount: 1, files: [file], duplicatePolicy: .error, inMemory: inMemory)
        var run = ValidatorRun()
        for batch in batches {
            let output = try validator.process(batch, wantRejects: false)
            run.errors += output.errors
            run.rows += try CopyRows.decode(output.chunks[0].rows)
        }
        return run
    }
}

/// Reads back the binary COPY rows the validator encodes for the staging table.
enum CopyRows {
    static let timestamps: Set<ScoreColumn> = [.scoringDate, .asOf]
    static let texts: Set<ScoreColumn> = [.ticker, .mode, .band, .guardrails]

    static func decode(_ buffer: ByteBuffer) throws -> [[String: String?]] {
        let bytes = Array(buffer.bytes)
        var offset = 0
        func integer<T: FixedWidthInteger>(_: T.Type) -> T {
            defer { offset += MemoryLayout<T>.size }
            return bytes[offset..<offset + MemoryLayout<T>.size].reduce(T(0)) { $0 << 8 | T($1) }
        }
        var rows: [[String: String?]] = []
        while offset < bytes.count {
            let fields = Int(integer(Int16.self))
            try #require(fields == ScoreColumn.allCases.count + 2, "a staged row has the 21 columns, source file and line")
            var row: [String: String?] = [:]
            for index in 0..<fields {
                let length = Int(integer(Int32.self))
                guard length >= 0 else {
                    if index < ScoreColumn.allCases.count { row[ScoreColumn.allCases[index].name] = .some(nil) }
                    continue
                }
                let field = Array(bytes[offset..<offset + length])
                guard index < ScoreColumn.allCases.count else { offset += length; continue }
                let column = ScoreColumn.allCases[index]
                var value: String
                if texts.contains(column) {
                    value = String(decoding: field, as: UTF8.self)
                    offset += length
                } else if timestamps.contains(column) {
                    value = CivilTime.format(Int64(bitPattern: integer(UInt64.self)))
                    if value.hasSuffix(".000000") { value.removeLast(7) }
                } else {
                    value = show(Double(bitPattern: integer(UInt64.self)))
                }
                row[column.name] = value
            }
            rows.append(row)
        }
        return rows
    }

    /// A float8 as PostgreSQL prints it: `100`, `-5`, `74.99`.
    static func show(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// Runs a case: the record alone in a CSV file (line 2) or a JSON array (record 1).
func checkRule(_ rule: RuleCase, json: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let record = rule.record
    let columns = ScoreColumn.allCases.map(\.name)
    let text: String
    if json {
        let members = columns.compactMap { column -> String? in
            guard let value = record[column] ?? nil else { return nil }
            let bare = value.range(of: #"^-?[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil
            return "\"\(column)\": " + (bare ? value : JSONValue.quote(value))
        }
        text = "[{" + members.joined(separator: ", ") + "}]\n"
    } else {
        func field(_ value: String?) -> String {
            guard let value else { return "" }
            return value.contains(where: { $0 == "," || $0 == "\"" }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
        }
        text = columns.joined(separator: ",") + "\n" + columns.map { field(record[$0] ?? nil) }.joined(separator: ",") + "\n"
    }
    let run = try ValidatorRun.run(text, format: json ? .json : .csv, rules: try rule.rules())
    switch rule.outcome {
    case let .stored(expected):
        #expect(run.errors.isEmpty, "\(run.errors)", sourceLocation: sourceLocation)
        let row = try #require(run.rows.count == 1 ? run.rows[0] : nil, "one row encoded", sourceLocation: sourceLocation)
        for (column, value) in expected.sorted(by: { $0.key < $1.key }) {
            let stored = row[column] ?? nil
            #expect((stored ?? "NULL") == value, "column \(column)", sourceLocation: sourceLocation)
        }
    case let .rejected(column, value, expectedRule):
        #expect(run.rows.isEmpty, "a rejected row was encoded", sourceLocation: sourceLocation)
        #expect(run.errors.count == 1, "expected one error: \(run.errors)", sourceLocation: sourceLocation)
        let error = try #require(run.errors.first, sourceLocation: sourceLocation)
        #expect(error.location == (json ? .record(1) : .line(2)), sourceLocation: sourceLocation)
        #expect(error.column == column && error.value == value, "\(error)", sourceLocation: sourceLocation)
        #expect(error.rule == expectedRule, "\(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Validation rules, on the validator")
struct ValidatorRuleTests {
    @Test("mode: either case, stored capitalised", arguments: RuleTable.modes)
    func mode(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("band spellings are forgiven, stored as the label", arguments: RuleTable.bandSpellings)
    func bandSpelling(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("band agrees with final_score at 75 / 65 / 50 exactly and just below", arguments: RuleTable.bandThresholds)
    func bandThreshold(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("any guardrail caps the band at Hold, except SectorBear in Investor mode", arguments: RuleTable.guardrailCaps)
    func guardrailCap(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("thresholds and limits from flags and --settings", arguments: RuleTable.changedThresholds)
    func changedThreshold(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("z-scores: finite, |z| at most 10 (or --max-abs-z)", arguments: RuleTable.zScores)
    func zScore(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("scores in [0, 100], risk_penalty in [0, 20]", arguments: RuleTable.ranges)
    func range(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("final_score = max(0, weighted - risk) within 0.015, 5 less for SectorBear in Investor mode", arguments: RuleTable.finalScores)
    func finalScore(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("tickers: NSE symbols with & and -, at most 20 characters, .XX/.XXX suffix", arguments: RuleTable.tickers)
    func ticker(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("dates and date-times, offsets stored as UTC", arguments: RuleTable.dates)
    func date(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("guardrails: JSON array or ; / | list, stored as compact JSON in the engine's order", arguments: RuleTable.guardrailLists)
    func guardrailList(_ rule: RuleCase) throws { try checkRule(rule) }

    @Test("the same rules for JSON records (location: record N)", arguments: RuleTable.jsonRecords)
    func jsonRecord(_ rule: RuleCase) throws { try checkRule(rule, json: true) }
}
