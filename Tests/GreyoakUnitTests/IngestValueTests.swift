import Foundation
import Testing
import GreyoakPostgres
import GreyoakIngest

/// Runs `body` on the UTF-8 bytes of `text`, NUL-terminated as the ingest batches keep them.
private func withField<T>(_ text: String, _ body: (UnsafePointer<UInt8>, Int) throws -> T) rethrows -> T {
    let bytes = Array(text.utf8) + [0]
    return try bytes.withUnsafeBufferPointer { try body($0.baseAddress!, bytes.count - 1) }
}

@Suite("Ingest number parsing")
struct IngestNumberTests {
    enum Expected: Sendable { case value(Double), notANumber, nan, infinity(negative: Bool) }

    static let cases: [(String, Expected)] = [
        ("70", .value(70)), ("70.12", .value(70.12)), ("-0.01", .value(-0.01)), ("+5", .value(5)), ("0", .value(0)),
        ("100.00", .value(100)), ("70.", .value(70)), (".5", .value(0.5)), ("1e2", .value(100)), ("1.5E-3", .value(0.0015)),
        (" 5 ", .value(5)), ("12345678901234567", .value(12345678901234568)), ("0.000000000000000000000001", .value(1e-24)),
        ("NaN", .nan), ("nan", .nan), ("inf", .infinity(negative: false)), ("-Infinity", .infinity(negative: true)),
        ("1e309", .infinity(negative: false)), ("-1e309", .infinity(negative: true)),
        ("abc", .notANumber), ("", .notANumber), ("-", .notANumber), ("1.2.3", .notANumber), ("0x1A", .notANumber),
        ("12abc", .notANumber), ("1,5", .notANumber), (" ", .notANumber),
    ]

    @Test("numbers as PostgreSQL's float8in reads them", arguments: cases)
    func number(_ text: String, _ expected: Expected) {
        let parsed = withField(text) { ScoreValues.number($0, $1) }
        switch expected {
        case let .value(value): #expect(parsed == value)
        case .notANumber: #expect(parsed == nil)
        case .nan: #expect(parsed?.isNaN == true)
        case let .infinity(negative): #expect(parsed == (negative ? -.infinity : .infinity))
        }
    }

    /// The fast path (integer over a power of ten) must round exactly as strtod does, for
    /// every score 0.00...100.00 and every z -10.000...10.000 the engine can write.
    @Test("the fast path rounds as strtod for every 2-decimal score and 3-decimal z")
    func fastPathIsExact() {
        var mismatches: [String] = []
        let scores = (0...10_000).map { String(format: "%d.%02d", $0 / 100, $0 % 100) }
        let zs = (-10_000...10_000).map { String(format: "%@%d.%03d", $0 < 0 ? "-" : "", abs($0) / 1000, abs($0) % 1000) }
        for text in scores + zs where withField(text, { ScoreValues.number($0, $1) }) != strtod(text, nil) {
            mismatches.append(text)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}

@Suite("Ingest vocabularies")
struct IngestVocabularyTests {
    @Test("tickers (already upper-cased)", arguments: [
        ("RELIANCE.NS", true), ("M&M.NS", true), ("BAJAJ-AUTO.NS", true), ("360ONE.NS", true), ("RELIANCE", true),
        ("RELIANCE.BO", true), ("ABCDEFGHIJKLMNOPQ.NS", true), ("ABCDEFGHIJKLMNOPQRST", true),
        ("ABCDEFGHIJKLMNOPQR.NS", false), ("ABCDEFGHIJKLMNOPQRSTU", false), ("RELIANCE.N", false), ("RELIANCE.NSEX", false),
        ("RELI ANCE.NS", false), (".NS", false), ("A.B.NS", false), ("RELIANCE.", false), ("RELIANCE.N5", false),
        ("RELIANCE_NS", false), ("", false),
    ])
    func ticker(_ text: String, _ valid: Bool) {
        #expect(withField(text) { ScoreValues.isTicker($0, $1) } == valid)
    }

    @Test("band spellings", arguments: [
        ("Strong Buy", .strongBuy), ("strong buy", .strongBuy), ("STRONG-BUY", .strongBuy), ("strong_buy", .strongBuy),
        ("Strong  Buy", .strongBuy), ("Buy", .buy), ("BUY", .buy), ("hold", .hold), ("Avoid", .avoid),
        ("Stong Buy", nil), ("StrongBuy", nil), ("Sell", nil), ("", nil),
    ] as [(String, Band?)])
    func band(_ text: String, _ band: Band?) {
        #expect(withField(text) { Band.parse($0, $1) } == band)
    }

    @Test("modes in any case", arguments: [
        ("Trader", .trader), ("trader", .trader), ("TRADER", .trader), ("Investor", .investor), ("iNVESTOR", .investor),
        ("Scalper", nil), ("Trade", nil), ("", nil),
    ] as [(String, Mode?)])
    func mode(_ text: String, _ mode: Mode?) {
        #expect(withField(text) { Mode.parse($0, $1) } == mode)
    }

    @Test("guardrail lists: JSON array, ; or |, stored in the engine's order", arguments: [
        (#"["LowDataHold","SectorBear"]"#, #"["LowDataHold","SectorBear"]"#),
        (#"["SectorBear", "LowDataHold"]"#, #"["LowDataHold","SectorBear"]"#),
        ("SectorBear;LowDataHold", #"["LowDataHold","SectorBear"]"#),
        ("LowCoverage|Illiquidity", #"["Illiquidity","LowCoverage"]"#),
        ("LowCoverage ; SectorBear ; HighRiskCap ; PledgeCap ; Illiquidity ; LowDataHold",
         #"["LowDataHold","Illiquidity","PledgeCap","HighRiskCap","SectorBear","LowCoverage"]"#),
        ("PledgeCap;PledgeCap", #"["PledgeCap"]"#),
        ("[]", "[]"),
    ])
    func guardrails(_ text: String, _ stored: String) throws {
        let mask = try ScoreValues.guardrailMask(text)
        #expect(String(decoding: ScoreValues.guardrailText[Int(mask)], as: UTF8.self) == stored)
    }

    @Test("an unknown guardrail is named; a list of non-names is malformed")
    func badGuardrails() {
        #expect {
            try ScoreValues.guardrailMask(#"["LowDataHold","MoonPhase"]"#)
        } throws: { error in
            if case let .unknown(name) = error as? ScoreValues.GuardrailFailure { return name == "MoonPhase" }
            return false
        }
        #expect {
            try ScoreValues.guardrailMask("[1, 2]")
        } throws: { error in
            if case .malformed = error as? ScoreValues.GuardrailFailure { return true }
            return false
        }
    }
}

@Suite("Ingest dates")
struct IngestDateTests {
    /// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's binary timestamp.
    static func micros(_ iso: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        let date = formatter.date(from: iso)!
        return Int64((date.timeIntervalSince1970 - 946_684_800) * 1_000_000)
    }

    @Test("dates and ISO 8601 date-times, offsets to UTC", arguments: [
        ("2000-01-01", "2000-01-01T00:00:00Z"),
        ("2024-10-08", "2024-10-08T00:00:00Z"),
        ("2024-10-08T10:30:00Z", "2024-10-08T10:30:00Z"),
        ("2024-10-08T16:00:00+05:30", "2024-10-08T10:30:00Z"),
        ("2024-10-08T16:00:00+0530", "2024-10-08T10:30:00Z"),
        ("2024-10-08T01:00:00+05:30", "2024-10-07T19:30:00Z"),
        ("2024-10-08T10:30:00-04:00", "2024-10-08T14:30:00Z"),
        ("2024-10-08 10:30", "2024-10-08T10:30:00Z"),
        ("2024-02-29", "2024-02-29T00:00:00Z"),
        ("1999-12-31T23:59:59Z", "1999-12-31T23:59:59Z"),
    ])
    func valid(_ text: String, _ utc: String) throws {
        #expect(try withField(text) { try CivilTime.parse($0, $1) } == Self.micros(utc))
    }

    @Test("fractions of a second are kept")
    func fraction() throws {
        #expect(try withField("2024-10-08T10:30:00.25Z") { try CivilTime.parse($0, $1) } == Self.micros("2024-10-08T10:30:00Z") + 250_000)
    }

    @Test("impossible dates are 'not valid', other text 'not a date'", arguments: [
        ("2023-02-29", true), ("2024-02-30", true), ("1900-02-29", true), ("2024-04-31", true), ("2024-13-01", true),
        ("2024-00-10", true), ("2024-10-08T24:00:00Z", true), ("2024-10-08T10:60:00Z", true),
        ("08/10/2024", false), ("2024-10-8", false), ("2024/10/08", false), ("2024-10-08T", false), ("2024-10-08X", false),
        ("20241008", false), ("", false), ("2024-10-08T10:30:00+5", false),
    ])
    func invalid(_ text: String, impossible: Bool) {
        #expect {
            try withField(text) { try CivilTime.parse($0, $1) }
        } throws: { error in
            switch error as? CivilTime.Failure {
            case .impossible: impossible
            case .syntax: !impossible
            case nil: false
            }
        }
    }
}

@Suite("Ingest field names, files and settings")
struct IngestInputTests {
    @Test("field names from every shape the Python stack writes", arguments: [
        ("ticker", ScoreColumn.FieldMeaning.column(.ticker)), (" Ticker ", .column(.ticker)), ("date", .column(.scoringDate)),
        ("scoring_date", .column(.scoringDate)), ("score", .column(.finalScore)), ("pillars.F", .column(.fScore)),
        ("pillars.s", .column(.sScore)), ("f_pillar", .column(.fScore)), ("q_pillar", .column(.qScore)),
        ("guardrail_flags", .column(.guardrails)), ("s_z", .column(.sZ)), ("confidence", .ignored), ("config_hash", .ignored),
        ("id", .ignored), ("colour", .unknown), ("sector_z", .unknown),
    ])
    func fieldName(_ name: String, _ meaning: ScoreColumn.FieldMeaning) {
        #expect(ScoreColumn.meaning(ofField: name) == meaning)
    }

    @Test("formats by extension", arguments: [
        ("a.csv", InputFormat.csv, false), ("a.CSV.GZ", .csv, true), ("a.json", .json, false), ("a.json.gz", .json, true),
        ("a.ndjson", .ndjson, false), ("a.jsonl", .ndjson, false), ("a.ndjson.gz", .ndjson, true),
    ] as [(String, InputFormat, Bool)])
    func detect(_ path: String, _ format: InputFormat, _ gzipped: Bool) throws {
        let detected = try #require(InputFile.detect(path))
        #expect(detected.0 == format && detected.1 == gzipped)
    }

    @Test("other extensions are not score files", arguments: ["a.txt", "a.gz", "a", "a.csv.bak", "a.tsv"])
    func unknownExtension(_ path: String) {
        #expect(InputFile.detect(path) == nil)
    }

    @Test("a directory expands recursively into its score files in sorted order")
    func expandDirectory() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-expand-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for name in ["z.csv", "b/deep/one.json", "a.ndjson.gz", "b/two.jsonl", "notes.txt", "b/readme.md"] {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        }
        let files = try InputFile.expand([root, "-"], format: nil)
        #expect(files.map(\.name) == [root + "/a.ndjson.gz", root + "/b/deep/one.json", root + "/b/two.jsonl", root + "/z.csv", "<stdin>"])
        #expect(files.map(\.format) == [.ndjson, .json, .ndjson, .csv, .csv])
        #expect(files.map(\.gzipped) == [true, false, false, false, false])
        #expect(try InputFile.expand(["-"], format: .ndjson).map(\.format) == [.ndjson])
        #expect(throws: GreyoakError.self) { try InputFile.expand([root + "/missing.csv"], format: nil) }
    }

    @Test("error lines: FILE:LINE: column COL: value \"V\": RULE")
    func errorLine() {
        let error = RowError(file: "scores.csv", fileIndex: 0, location: .line(12), column: "band", value: "Stong \"Buy\"\n",
                             rule: .notABand)
        #expect(error.description == #"scores.csv:12: column band: value "Stong \"Buy\"\n": is not a band (Strong Buy, Buy, Hold, Avoid)"#)
        let record = RowError(file: "api.json", fileIndex: 0, location: .record(3), rule: .malformedJSON(line: nil, message: "x"))
        #expect(record.description == "api.json:record 3: malformed JSON: x")
    }

    @Test("--settings: every documented key, unknown keys refused")
    func settingsFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-settings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = directory + "/good.json"
        try #"""
            {"strong_buy_at": 70, "buy_at": 60, "hold_at": 45, "max_abs_z": 8, "score_min": 0, "score_max": 100,
             "risk_penalty_max": 18, "final_score_tolerance": 0.02, "sector_bear_penalty": 4, "check_band": false,
             "check_final_score": false}
            """#.write(toFile: good, atomically: true, encoding: .utf8)
        let rules = try ValidationRules.load(path: good)
        #expect(rules.strongBuyAt == 70 && rules.buyAt == 60 && rules.holdAt == 45 && rules.maxAbsZ == 8)
        #expect(rules.riskPenaltyMax == 18 && rules.finalScoreTolerance == 0.02 && rules.sectorBearPenalty == 4)
        #expect(!rules.checkBandConsistency && !rules.checkFinalScore)

        let partial = directory + "/partial.json"
        try #"{"hold_at": 40}"#.write(toFile: partial, atomically: true, encoding: .utf8)
        var expected = ValidationRules()
        expected.holdAt = 40
        #expect(try ValidationRules.load(path: partial) == expected)

        let typo = directory + "/typo.json"
        try #"{"strong_buy": 70}"#.write(toFile: typo, atomically: true, encoding: .utf8)
        #expect {
            try ValidationRules.load(path: typo)
        } throws: { error in
            guard let error = error as? GreyoakError else { return false }
            return error.code == .usage && error.message.contains("unknown setting \"strong_buy\"")
        }
    }
}
