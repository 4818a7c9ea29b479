import Foundation
import GreyoakPostgres
import GreyoakMigrations
import GreyoakIngest

/// The parsers of untrusted input, each as one function of arbitrary bytes, for libFuzzer
/// (the `greyoak-fuzz` executable, built by `scripts/fuzz` with `-sanitize=fuzzer,address`)
/// and for the regression inputs that `swift test` replays without a sanitizer.
///
/// They live in the library, at `package` access, because they drive internal types (the
/// record parsers, the inflater, the validator) that nothing outside their targets may see;
/// nothing in greyoak calls them. A target returns normally for any input the code under
/// test refuses with an error; it traps (`preconditionFailure`) only where an invariant is
/// broken: a parse that depends on where the chunks were cut, a JSON value that Foundation
/// reads differently, a password left in a redacted URL.
package enum FuzzTarget: String, CaseIterable, Sendable {
    case csv, json, ndjson, gzip, migration, sqlsplit, conninfo, settings, validator, jsondiff, httpresponse

    /// What libFuzzer is told about each target (`-max_len`): small inputs find bugs faster.
    package var maxLength: Int { self == .gzip ? 16_384 : 4_096 }

    /// The record limit the parser targets run with: small, so that fuzzing reaches it.
    static let fuzzRecordBytes = 512

    package func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        switch self {
        case .csv, .json, .ndjson: parseRecords(bytes)
        case .gzip: inflate(bytes)
        case .migration: _ = try? Migration.parse(bytes, path: "fuzz.py")
        case .sqlsplit: _ = SQLSplitter.split(String(decoding: bytes, as: UTF8.self))
        case .conninfo: redact(String(decoding: bytes, as: UTF8.self))
        case .settings: _ = try? ValidationRules.parse(Data(bytes), path: "fuzz.json")
        case .validator: validate(bytes)
        case .jsondiff: compareWithFoundation(bytes)
        case .httpresponse: readResponse(bytes)
        }
    }

    // MARK: A Pushgateway's answer

    /// A status is three digits, and the message at most 200 characters of the body.
    private func readResponse(_ bytes: [UInt8]) {
        guard let parsed = HTTPPost.parseResponse(bytes) else { return }
        precondition((0...999).contains(parsed.status), "httpresponse: status \(parsed.status)")
        precondition(parsed.message.count <= 200, "httpresponse: a message of \(parsed.message.count) characters")
    }

    // MARK: Record parsers

    /// Parses whole, then in chunks cut at places drawn from the input: both must give the
    /// same records and errors (a limit error aside: where it is noticed depends on the
    /// chunks, by design).
    private func parseRecords(_ bytes: [UInt8]) {
        let whole = records(bytes, chunks: [bytes.count])
        let split = records(bytes, chunks: Self.chunkSizes(bytes))
        if whole.hitLimit || split.hitLimit { return }
        precondition(whole.digest == split.digest, "\(rawValue): chunking changed the result:\n\(whole.digest)\n---\n\(split.digest)")
    }

    private func records(_ bytes: [UInt8], chunks: [Int]) -> (digest: [String], hitLimit: Bool) {
        let format: InputFormat = self == .csv ? .csv : self == .json ? .json : .ndjson
        let file = InputFile(name: "fuzz", path: nil, format: format, gzipped: false)
        var digest: [String] = []
        let emit: (RecordBatch) throws -> Void = { batch in
            for record in 0..<batch.count where batch.fault(record) == nil {
                let fields = ScoreColumn.allCases.map { batch.text(record: record, column: $0) ?? "∅" }
                digest.append("\(batch.location(record)): \(fields)")
            }
            digest += batch.errors.map(\.description)
        }
        do {
            let parser: any RecordParser = format == .csv
                ? try CSVRecordParser(file: file, fileIndex: 0, batchSize: 7, ignoreUnknownFields: true,
                                      maxRecordBytes: Self.fuzzRecordBytes, notices: { _ in }, emit: emit)
                : JSONRecordParser(file: file, fileIndex: 0, batchSize: 7, ignoreUnknownFields: true,
                                   maxRecordBytes: Self.fuzzRecordBytes, notices: { _ in }, emit: emit)
            var start = 0
            for size in chunks where start < bytes.count {
                let end = min(bytes.count, start + size)
                try parser.feed(Array(bytes[start..<end]))
                start = end
            }
            try parser.finish()
        } catch {
            let text = "\(error)"
            digest.append("error: " + text)
            return (digest, text.contains("bytes (the limit"))
        }
        return (digest, false)
    }

    /// Chunk sizes (1 byte and up) drawn from the input itself, so a crash replays exactly.
    static func chunkSizes(_ bytes: [UInt8]) -> [Int] {
        var state = bytes.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        var sizes: [Int] = []
        var total = 0
        while total < bytes.count {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var mixed = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            let size = 1 + Int((mixed ^ (mixed >> 31)) % UInt64(max(1, bytes.count / 3 + 1)))
            sizes.append(size)
            total += size
        }
        return sizes
    }

    // MARK: gzip

    /// Inflates whole and in chunks: the same bytes out, or the same error.
    private func inflate(_ bytes: [UInt8]) {
        let whole = Self.inflated(bytes, chunks: [bytes.count])
        let split = Self.inflated(bytes, chunks: Self.chunkSizes(bytes))
        precondition(whole == split, "gzip: chunking changed the result")
    }

    static func inflated(_ bytes: [UInt8], chunks: [Int]) -> String {
        do {
            let inflater = try GzipInflater(name: "fuzz.gz")
            var out = SHA256.Hasher()
            var total = 0
            var start = 0
            for size in chunks where start < bytes.count {
                let end = min(bytes.count, start + size)
                inflater.feed(Array(bytes[start..<end]))
                start = end
                while let piece = try inflater.drain(1 << 16) {
                    total += piece.count
                    piece.withUnsafeBytes { out.update($0) }
                }
            }
            try inflater.finish()
            return "\(total) bytes, \(SHA256.hex(out.finalize()))"
        } catch {
            return "error: \(error)"
        }
    }

    // MARK: Connection strings

    /// Redacting must leave no password behind: a password libpq reads that is written once,
    /// as is, in the text is nowhere in the redacted text or the settings' description.
    /// (Compared as bytes: Foundation's string search stops at a NUL.)
    private func redact(_ text: String) {
        let description = Array(ConnectionSettings(url: text, environment: [:]).description.utf8)
        let redacted = Array(RedactedURL.redact(text).utf8)
        // libpq stops at a NUL; such a text is never shown, only a fixed sentence (which may
        // well contain a one-character "password").
        if text.utf8.contains(0) {
            precondition(redacted == Array(RedactedURL.unparsable.utf8), "a text with a NUL was shown: \(text.debugDescription)")
            return
        }
        let bytes = Array(text.utf8)
        guard let password = RedactedURL.parse(text)?["password"].map({ Array($0.utf8) }), !password.isEmpty,
              !password.contains(UInt8(ascii: "*")), Self.occurrences(of: password, in: bytes) == 1,
              let at = (0...(bytes.count - password.count)).first(where: { bytes[$0..<($0 + password.count)].elementsEqual(password) })
        else { return }
        // Only where that one occurrence is the value libpq reads: the text `password=a\=`
        // holds the password `password=` only as its keyword, which redaction keeps.
        let probe = Array("GreyoakFuzzProbe".utf8)
        guard RedactedURL.parse(String(decoding: bytes[..<at] + probe + bytes[(at + password.count)...], as: UTF8.self))?["password"]
                == "GreyoakFuzzProbe" else { return }
        precondition(Self.occurrences(of: password, in: redacted) == 0, "a password survived redaction: \(text.debugDescription)")
        precondition(Self.occurrences(of: password, in: description) == 0, "a password survived in the description: \(text.debugDescription)")
    }

    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard !needle.isEmpty, needle.count <= haystack.count else { return 0 }
        return (0...(haystack.count - needle.count)).filter { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }.count
    }

    // MARK: Validator

    /// Fills one record per line, fields separated by tabs (a field `\u{1}` is absent), and
    /// validates it with the default rules, rejects included.
    private func validate(_ bytes: [UInt8]) {
        let batch = RecordBatch(fileIndex: 0, byLine: true, capacity: 16)
        for (number, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).prefix(16).enumerated() {
            batch.beginRecord()
            for (column, field) in zip(ScoreColumn.allCases, line.split(separator: 0x09, omittingEmptySubsequences: false))
            where field != [0x01] {
                batch.setField(column, Array(field))
            }
            batch.commitRecord(number + 1)
        }
        let file = InputFile(name: "fuzz.csv", path: nil, format: .csv, gzipped: false)
        let validator = ScoreValidator(rules: ValidationRules(), writerCount: 2, files: [file], duplicatePolicy: .error, inMemory: .screen)
        // Only the compare mode (which reads scores) throws; this validator has none.
        _ = try? validator.process(batch, wantRejects: true)
    }

    // MARK: JSON against Foundation

    /// Where both parsers accept the input, they must read the same value.
    private func compareWithFoundation(_ bytes: [UInt8]) {
        guard let ours = try? bytes.withUnsafeBytes({ try JSONParser.parse($0) }) else { return }
        // Foundation reads a string holding U+FEFF (a byte-order mark's character) otherwise
        // than RFC 8259, which keeps it as a character (found by this target; kept in
        // FuzzRegressions/jsondiff): such inputs are not compared.
        if Self.occurrences(of: [0xEF, 0xBB, 0xBF], in: Array(bytes.dropFirst())) > 0 { return }
        guard let theirs = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return }
        precondition(Self.same(ours, theirs), "JSONParser and JSONSerialization disagree on \(String(decoding: bytes, as: UTF8.self))")
    }

    static func same(_ ours: JSONValue, _ theirs: Any) -> Bool {
        switch ours {
        case .null:
            return theirs is NSNull
        case let .bool(value):
            return (theirs as? Bool) == value
        case let .string(text):
            return (theirs as? String).map { Array($0.utf8) == Array(text.utf8) } ?? false
        case let .number(text):
            guard let number = theirs as? NSNumber, let value = Double(text), value.isFinite else { return theirs is NSNumber }
            let other = number.doubleValue
            // Foundation reads long integers as integers or decimals, and a decimal's
            // `doubleValue` is a few units off in the last place for a long one (1.07e-15
            // relative for a 133-digit integer, found by this target; kept in
            // FuzzRegressions/jsondiff), where ours rounds correctly: equal to 12 digits.
            return value == other || abs(value - other) <= abs(value) * 1e-12
        case let .array(items):
            guard let others = theirs as? [Any], others.count == items.count else { return false }
            return zip(items, others).allSatisfy { same($0, $1) }
        case let .object(members):
            guard let others = theirs as? [String: Any], others.count == members.count else { return false }
            return members.allSatisfy { key, value in others[key].map { same(value, $0) } ?? false }
        }
    }
}
