import Foundation
import Testing
import GreyoakIngest

/// JSON is read strictly (RFC 8259), with bounded depth and size, and the record parser
/// reads the same records however the input is cut into chunks.
@Suite("JSON: strict RFC 8259, bounded, chunk-independent")
struct JSONStrictnessTests {
    /// Inputs that are not JSON, and the words of the error each must give.
    static let refused: [(text: String, error: String)] = [
        (#""TCS.NS\uD800\u0041""#, "lone high surrogate \\uD800"),
        (#""\uDC00""#, "lone low surrogate"),
        (#""\uD800""#, "lone high surrogate"),
        (#""TCS\q""#, "invalid escape \\q"),
        (#""\u12G4""#, "four hex digits"),
        ("\"a\u{1}b\"", "control character (0x01)"),
        ("\"a\nb\"", "control character (0x0A)"),
        ("[1] x", "unexpected text after the JSON value"),
        ("{} {}", "unexpected text after the JSON value"),
        ("[1,]", "trailing comma"),
        ("{\"a\":1,}", "trailing comma"),
        ("NaN", "NaN and Infinity are not JSON"),
        ("-Infinity", "'-' not followed by a digit"),
        ("01", "leading zero"),
        ("1.", "the input ends inside a number"),
        ("1.e5", "no digit after its '.'"),
        ("1e", "the input ends inside a number"),
        ("+1", "unexpected character '+'"),
        ("0x10", "malformed number"),
        ("[1 2]", "expected ',' or ']'"),
        ("{\"a\" 1}", "expected ':'"),
        ("{a:1}", "member name in double quotes"),
        ("[", "ends inside a JSON value"),
        ("", "holds no JSON value"),
        ("tru", "ends inside true"),
        ("nul!", "expected null"),
        ("\"abc", "ends inside a string"),
        ("{\"a\":1,\"a\":2}", "member \"a\" appears twice"),
        (String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "nested more than 64 deep"),
        (String(repeating: "[", count: 100_000), "nested more than 64 deep"),
    ]

    @Test("refused with a message that says what is wrong", arguments: refused)
    func refusedInput(_ input: (text: String, error: String)) {
        #expect(throws: JSONScanner.Failure.self) { try Self.parse(input.text) }
        do {
            _ = try Self.parse(input.text)
        } catch let failure as JSONScanner.Failure {
            #expect(failure.message.contains(input.error), "\(failure.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("bytes that are not UTF-8 are refused", arguments: [
        [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82],
    ] as [[UInt8]])
    func invalidUTF8(_ bytes: [UInt8]) {
        #expect(throws: JSONScanner.Failure.self) { try bytes.withUnsafeBytes { try JSONParser.parse($0) } }
    }

    @Test("what valid JSON reads as")
    func values() throws {
        #expect(try Self.parse(#""A\u00e9\ud83d\ude00\n\"\\\/""#) == .string("Aé😀\n\"\\/"))
        #expect(try Self.parse(" [ -0 , 1.5e-3 , 123456789012345678901234567890 ] ") ==
            .array([.number("-0"), .number("1.5e-3"), .number("123456789012345678901234567890")]))
        #expect(try Self.parse("{\"a\":[true,false,null],\"b\":{}}") == .object([("a", .array([.bool(true), .bool(false), .null])), ("b", .object([]))]))
        #expect(try Self.parse("\u{FEFF}1") == .number("1"))
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try Self.parse(deepest) }
    }

    static func parse(_ text: String) throws -> JSONValue {
        try Array(text.utf8).withUnsafeBytes { try JSONParser.parse($0) }
    }

    // MARK: The record parser

    static let recordInputs: [(label: String, format: InputFormat, text: String)] = [
        ("array", .json, #"[{"ticker":"A","scoring_date":"2024-10-08","mode":"Trader"},{"ticker":"B\u00e9","f_score":1.5,"band":null}]"#),
        ("API wrapper", .json, #"{"stocks":[{"ticker":"A","date":"2024-10-08","pillars":{"F":1,"T":2},"guardrail_flags":["X","Y"],"confidence":0.7}],"statistics":{"n":1}}"#),
        ("wrapper, stocks last", .json, #"{"statistics":{"n":[1,{"x":2}]},"stocks":[{"ticker":"A"}]}"#),
        ("single object", .json, #"{"ticker":"A","mode":"Trader","guardrails":[]}"#),
        ("not objects", .json, #"[1,"two",[3],{"ticker":"A"},null]"#),
        ("twice", .json, #"[{"ticker":"A","ticker":"B"},{"ticker":"C","pillars.F":1,"f_score":2},{"ticker":"D","x":{"k":1,"k":2}}]"#),
        ("NUL in a string", .json, #"[{"ticker":"A\u0000B"},{"ticker":"C"}]"#),
        ("malformed in the second record", .json, "[\n{\"ticker\":\"A\"},\n{\"ticker\":\"B\" \"mode\":1}\n]"),
        ("truncated", .json, "[{\"ticker\":\"A\"},\n{\"ticker\""),
        ("too deep", .json, "[{\"guardrails\":" + String(repeating: "[", count: 70) + "]}]"),
        ("ndjson", .ndjson, "{\"ticker\":\"A\"}\n\n{\"ticker\":\"B\",\"guardrails\":[\"x\\ty\"]}\r\n[1]\n{\"ticker\":\"C\"}"),
        ("ndjson, two values on a line", .ndjson, "{\"ticker\":\"A\"} {\"ticker\":\"B\"}\n"),
        ("ndjson, a value over two lines", .ndjson, "{\"ticker\":\"A\",\n\"mode\":\"Trader\"}\n"),
        ("ndjson, bad escape", .ndjson, "{\"ticker\":\"A\"}\n{\"ticker\":\"TCS\\q\"}\n"),
        ("byte-order mark", .json, "\u{FEFF}[{\"ticker\":\"A\"}]"),
    ]

    static let chunkSizes = [1, 2, 3, 7, 64, Int.max]

    @Test("the same records and errors at every chunk size", arguments: recordInputs)
    func chunkIndependent(_ input: (label: String, format: InputFormat, text: String)) {
        let reference = Self.transcript(input.text, format: input.format, chunkSize: .max)
        for size in Self.chunkSizes {
            #expect(Self.transcript(input.text, format: input.format, chunkSize: size) == reference, "\(input.label), \(size)-byte chunks")
        }
    }

    @Test("what records read as")
    func knownReadings() {
        #expect(Self.transcript(Self.recordInputs[1].text, format: .json, chunkSize: 5) == [
            "record 1: A|2024-10-08|NULL|1|2|[\"X\",\"Y\"]",
        ])
        #expect(Self.transcript(Self.recordInputs[2].text, format: .json, chunkSize: 3) == ["record 1: A|NULL|NULL|NULL|NULL|NULL"])
        #expect(Self.transcript(Self.recordInputs[4].text, format: .json, chunkSize: 4) == [
            "record 4: A|NULL|NULL|NULL|NULL|NULL",
            "error t.json:record 1: is not a score object (found 1)",
            "error t.json:record 2: is not a score object (found \"two\")",
            "error t.json:record 3: is not a score object (found [3])",
            "error t.json:record 5: is not a score object (found null)",
        ])
        #expect(Self.transcript(Self.recordInputs[5].text, format: .json, chunkSize: 6) == [
            "error t.json:record 1: column ticker: names column ticker twice",
            "error t.json:record 2: column f_score: names column f_score twice",
            "error t.json:record 3: member \"k\" appears twice in one object",
        ])
        #expect(Self.transcript(Self.recordInputs[6].text, format: .json, chunkSize: 2) == [
            "record 2: C|NULL|NULL|NULL|NULL|NULL",
            "error t.json:record 1: column ticker: contains a NUL character (\\u0000), which a text column cannot hold",
        ])
        #expect(Self.transcript(Self.recordInputs[7].text, format: .json, chunkSize: 9).last ==
            "thrown t.json:record 2: malformed JSON at line 3: expected ',' or '}' after an object member")
        #expect(Self.transcript(Self.recordInputs[9].text, format: .json, chunkSize: 9).last ==
            "thrown t.json:record 1: malformed JSON at line 1: arrays and objects nested more than 64 deep (the limit)")
        #expect(Self.transcript(Self.recordInputs[12].text, format: .ndjson, chunkSize: 9).last ==
            "thrown t.json:record 1: malformed JSON at line 1: the line ends inside a JSON value (NDJSON holds one whole value per line)")
        #expect(Self.transcript(Self.recordInputs[13].text, format: .ndjson, chunkSize: 1).last ==
            "thrown t.json:record 2: malformed JSON at line 2: an invalid escape \\q in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
    }

    @Test("a record past the size limit is refused before it is read whole", arguments: [InputFormat.json, .ndjson])
    func recordLimit(_ format: InputFormat) {
        let big = "{\"ticker\":\"" + String(repeating: "A", count: 5000) + "\"}"
        let text = format == .json ? "[{\"ticker\":\"A\"}," + big + "]" : "{\"ticker\":\"A\"}\n" + big + "\n"
        let lines = Self.transcript(text, format: format, chunkSize: 1000, maxRecordBytes: 2000)
        #expect(lines.last == "thrown t.json:record 2: a record longer than 2000 bytes (the limit; raise it with --max-record-bytes)", "\(lines)")
        // Under the limit, the same record reads.
        #expect(Self.transcript(text, format: format, chunkSize: 1000, maxRecordBytes: 6000).count == 2)
    }

    /// One line per record (`record N: ticker|date|mode|f|t|guardrails`), per row error and
    /// for a thrown error.
    static func transcript(_ text: String, format: InputFormat, chunkSize: Int, maxRecordBytes: Int = 1 << 20) -> [String] {
        var lines: [String] = []
        var errors: [String] = []
        let columns: [ScoreColumn] = [.ticker, .scoringDate, .mode, .fScore, .tScore, .guardrails]
        let file = InputFile(name: "t.json", path: nil, format: format, gzipped: false)
        let parser = JSONRecordParser(file: file, fileIndex: 0, batchSize: 2, ignoreUnknownFields: true,
                                      maxRecordBytes: maxRecordBytes, notices: { _ in }) { batch in
            for record in 0..<batch.count where batch.fault(record) == nil {
                let fields = columns.map { batch.text(record: record, column: $0) ?? "NULL" }
                lines.append("\(batch.location(record)): \(fields.joined(separator: "|"))")
            }
            errors += batch.errors.map { "error \($0)" }
        }
        do {
            try parser.feedAll(Array(text.utf8), chunkSize: chunkSize)
        } catch {
            return lines + errors + ["thrown \(error)"]
        }
        return lines + errors
    }
}
