import GreyoakPostgres
extension RowError {
    /// What is wrong with a row or a file, as a case that code and tests match on; its
    /// ``description`` is the text people read (and the rejects file's `errors`), its
    /// ``code`` a stable name for scripts (the rejects file's `rules`).
    public enum Rule: Sendable, Equatable, CustomStringConvertible {
        // A field's value.
        case required
        case notATicker
        case notAMode
        case notANumber
        case notFinite
        case zOutOfRange(limit: Double)
        case outOfRange(low: Double, high: Double)
        case notABand
        case unknownGuardrail(String)
        case notAGuardrailList
        case notADate
        case impossibleDate(reason: String)
        // Consistency between fields.
        case finalScoreMismatch(expected: Double, sectorBearPenalty: Double?)
        case bandMismatch(finalScore: Double, capped: Bool, expected: Band)
        /// A key seen before, at `firstFile:firstLocation`, and `morePlaces` times besides.
        case duplicateKey(ticker: String, date: String, mode: String, firstFile: String, firstLocation: RowLocation, morePlaces: Int)
        // A record's shape.
        case fieldCount(found: Int, header: Int)
        case notAScoreObject(found: String)
        case fieldNamedTwice(column: String)
        /// A JSON member (not a column) named twice in one object.
        case memberNamedTwice(name: String)
        /// A NUL in a field: at this 1-based byte of a CSV field; nil for JSON's `\u0000`.
        case containsNUL(position: Int?)
        /// A CSV field whose bytes are not UTF-8, from this 1-based byte.
        case notUTF8(byte: UInt8, position: Int)
        // A file's shape: these make the rest of the file unreadable.
        case unknownField(String)
        case headerNamesColumnTwice(column: String, first: String, second: String)
        case headerLacksColumn(column: String, header: [String])
        case emptyFile
        case malformedCSV(reason: String)
        case unterminatedQuote
        case malformedJSON(line: Int?, message: String)
        /// A record (and so a field or line) past `--max-record-bytes`.
        case recordTooLong(limit: Int)
        /// A gzip stream that does not check out, at this compressed byte.
        case badGzip(offset: Int?, message: String)
        /// A failure with no rule of its own (a stage that could not go on).
        case other(String)

        public var description: String {
            switch self {
            case .required: "is required"
            case .notATicker: "is not a ticker (A-Z, 0-9, & and -, at most 20 characters, optional .XX or .XXX exchange suffix)"
            case .notAMode: "is not a mode (\(Mode.list))"
            case .notANumber: "is not a number"
            case .notFinite: "is not a finite number"
            case let .zOutOfRange(limit): "|z| exceeds \(ScoreValues.show(limit))"
            case let .outOfRange(low, high): "is outside [\(ScoreValues.show(low)), \(ScoreValues.show(high))]"
            case .notABand: "is not a band (\(Band.list))"
            case let .unknownGuardrail(name): "unknown guardrail \"\(name)\" (\(ScoreValues.guardrailList))"
            case .notAGuardrailList: "is not a list of guardrails (a JSON array of names, or names separated by ; or |)"
            case .notADate: "is not a date (YYYY-MM-DD or an ISO 8601 date-time)"
            case let .impossibleDate(reason): "is not a valid date: \(reason)"
            case let .finalScoreMismatch(expected, penalty):
                "does not equal max(0, weighted_score - risk_penalty)"
                    + (penalty.map { " - \(ScoreValues.show($0)) (SectorBear, Investor)" } ?? "")
                    + " = \(ScoreValues.twoDecimals(expected))"
            case let .bandMismatch(finalScore, capped, expected):
                "does not match final_score \(ScoreValues.twoDecimals(finalScore))\(capped ? " with a capping guardrail" : ""): expected \(expected)"
            case let .duplicateKey(ticker, date, mode, firstFile, firstLocation, morePlaces):
                "duplicate key (\(ticker), \(date), \(mode)): also at \(firstFile):\(firstLocation)"
                    + (morePlaces > 0 ? " and \(morePlaces) more place(s)" : "")
            case let .fieldCount(found, header): "has \(found) fields, the header has \(header)"
            case let .notAScoreObject(found): "is not a score object (found \(found))"
            case let .fieldNamedTwice(column): "names column \(column) twice"
            case let .memberNamedTwice(name): "member \(JSONValue.quote(name)) appears twice in one object"
            case let .containsNUL(position?): "contains a NUL byte (at byte \(position) of the field)"
            case .containsNUL(nil): "contains a NUL character (\\u0000), which a text column cannot hold"
            case let .notUTF8(byte, position): "is not valid UTF-8 (byte \(JSONScanner.hex(byte)) at byte \(position) of the field)"
            case let .unknownField(name): "unknown field \"\(name)\": not a scores column (use --ignore-unknown-fields to drop it)"
            case let .headerNamesColumnTwice(column, first, second):
                "column \(column) is named twice in the header (\"\(first)\" and \"\(second)\")"
            case let .headerLacksColumn(column, header):
                "the header has no \(column) column, which is required (columns: \(header.joined(separator: ", ")))"
            case .emptyFile: "the file is empty: a header row naming the columns is required"
            case let .malformedCSV(reason):
                "malformed CSV: \(reason): a quote inside an unquoted field, or text after a closing quote (RFC 4180)"
            case .unterminatedQuote: "unterminated quoted field: a quote opened here is never closed"
            case let .malformedJSON(line?, message): "malformed JSON at line \(line): \(message)"
            case let .malformedJSON(nil, message): "malformed JSON: \(message)"
            case let .recordTooLong(limit): "a record longer than \(limit) bytes (the limit; raise it with --max-record-bytes)"
            case let .badGzip(offset?, message): "byte \(offset): \(message)"
            case let .badGzip(nil, message): message
            case let .other(text): text
            }
        }

        /// A stable name for the rule, whatever its message says.
        public var code: String {
            switch self {
            case .required: "required"
            case .notATicker: "not_a_ticker"
            case .notAMode: "not_a_mode"
            case .notANumber: "not_a_number"
            case .notFinite: "not_finite"
            case .zOutOfRange: "z_out_of_range"
            case .outOfRange: "out_of_range"
            case .notABand: "not_a_band"
            case .unknownGuardrail: "unknown_guardrail"
            case .notAGuardrailList: "not_a_guardrail_list"
            case .notADate: "not_a_date"
            case .impossibleDate: "impossible_date"
            case .finalScoreMismatch: "final_score_mismatch"
            case .bandMismatch: "band_mismatch"
            case .duplicateKey: "duplicate_key"
            case .fieldCount: "field_count"
            case .notAScoreObject: "not_a_score_object"
            case .fieldNamedTwice: "field_named_twice"
            case .memberNamedTwice: "member_named_twice"
            case .containsNUL: "contains_nul"
            case .notUTF8: "not_utf8"
            case .unknownField: "unknown_field"
            case .headerNamesColumnTwice: "header_names_column_twice"
            case .headerLacksColumn: "header_lacks_column"
            case .emptyFile: "empty_file"
            case .malformedCSV: "malformed_csv"
            case .unterminatedQuote: "unterminated_quote"
            case .malformedJSON: "malformed_json"
            case .recordTooLong: "record_too_long"
            case .badGzip: "bad_gzip"
            case .other: "other"
            }
        }
    }
}
