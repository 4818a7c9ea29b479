import Foundation
import Testing
import GreyoakTestSupport

// Helpers for the `greyoak ingest` suites: running the command against a test database,
// reading its `--json` summary and error lines, building score files, and snapshots of
// `scores` to compare before and after. Databases come from `withTestDatabase` and the
// binary from `CLI` (Support/).

/// The `--json` summary of `greyoak ingest`, decoded from its documented keys (not from
/// greyoak's own type, so that a renamed key fails here as it would for a script).
struct IngestReport: Decodable, Equatable, Sendable {
    var files: Int
    var rowsRead: Int
    var inserted: Int
    var updated: Int
    var unchanged: Int
    var rejected: Int
    var writers: Int
    var outcome: String

    enum CodingKeys: String, CodingKey {
        case files, rowsRead = "rows_read", inserted, updated, unchanged, rejected, writers, outcome
    }
}

extension CLIResult {
    /// The `--json` summary: the last line of stdout.
    func report(sourceLocation: SourceLocation = #_sourceLocation) throws -> IngestReport {
        let line = try #require(lines.last(where: { $0.hasPrefix("{") }), "no JSON summary on stdout:\n\(self)",
                                sourceLocation: sourceLocation)
        do {
            return try JSONDecoder().decode(IngestReport.self, from: Data(line.utf8))
        } catch {
            Issue.record("the summary is not the documented JSON (\(error)):\n\(self)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// stderr split into lines.
    var errorLines: [String] { stderr.split(separator: "\n").map(String.init) }

    /// The lines of stderr that report one bad row or input (`FILE:LOC: ...`), in order.
    func rowErrors(in files: [String]) -> [String] {
        errorLines.filter { line in files.contains { line.hasPrefix($0 + ":") } }
    }
}

/// Runs greyoak against a test database with the repository's migrations.
enum IngestCLI {
    /// `greyoak db upgrade head`; the test stops if it fails.
    static func upgradeHead(_ database: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await CLI.run(["db", "upgrade", "head", "-q"], databaseURL: database.url,
                                       migrations: IngestRepo.migrations, sourceLocation: sourceLocation)
        try #require(result.status == 0, "db upgrade head failed:\n\(result)", sourceLocation: sourceLocation)
    }

    /// `greyoak ingest --no-progress ARGUMENTS`, with standard input from `stdin` (a file) if given.
    static func ingest(
        _ database: TestDatabase, _ arguments: [String], stdin: String? = nil, databaseURL: String? = nil,
        timeout: Double = 90, whileRunning: (@Sendable (ChildOutput) async throws -> Void)? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CLIResult {
        try await CLI.run(["ingest", "--no-progress"] + arguments, databaseURL: databaseURL ?? database.url,
                          migrations: IngestRepo.migrations, stdin: stdin, timeout: timeout,
                          whileRunning: whileRunning, sourceLocation: sourceLocation)
    }
}

/// A temporary directory, removed by ``remove()``.
struct IngestScratch: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-ingest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` (or `bytes`) to `name`, creating folders; returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, bytes: Data(text.utf8)) }

    @discardableResult
    func write(_ name: String, bytes: Data) throws -> String {
        let full = file(name)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: full))
        return full
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// `scripts/gen-scores`: realistic, valid, deterministic score files.
enum GenScores {
    /// Runs the generator with `arguments` (which should include `--out FILE`); returns how
    /// many rows it says it changed (`--changed-fraction`).
    @discardableResult
    static func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: IngestRepo.path("scripts/gen-scores"))
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "gen-scores \(arguments) failed: \(text)", sourceLocation: sourceLocation)
        // "gen-scores: 1200 rows (200 tickers x 3 days x 2 modes, 60 changed), csv, ..."
        guard let range = text.range(of: #"(\d+) changed"#, options: .regularExpression) else { return 0 }
        return Int(text[range].split(separator: " ")[0]) ?? 0
    }
}

/// The columns a score file fills, in `scores` order.
let scoreFileColumns = [
    "ticker", "scoring_date", "mode", "f_score", "t_score", "r_score", "o_score", "q_score", "s_score",
    "weighted_score", "risk_penalty", "final_score", "band", "guardrails", "as_of",
    "f_z", "t_z", "r_z", "o_z", "q_z", "s_z",
]

/// Reads `scores` back as text, one array per row in key order: timestamps as
/// `YYYY-MM-DD HH24:MI:SS`, numbers in PostgreSQL's shortest exact form.
enum ScoresTable {
    static func select(_ columns: [String]) -> String {
        columns.map { column in
            switch column {
            case "scoring_date", "as_of", "created_at", "updated_at":
                column.hasSuffix("_at") && column != "as_of"
                    ? "to_char(\(column), 'YYYY-MM-DD HH24:MI:SS.US')" : "to_char(\(column), 'YYYY-MM-DD HH24:MI:SS')"
            case "band": "band::text"
            default: column
            }
        }.joined(separator: ", ")
    }

    /// Every row's `columns` (default: all 21 value columns), ordered by key.
    static func snapshot(_ database: TestDatabase, _ columns: [String] = scoreFileColumns) throws -> [[String?]] {
        try database.query("SELECT \(select(columns)) FROM scores ORDER BY ticker, scoring_date, mode")
    }

    /// The same, keyed by "TICKER|YYYY-MM-DD HH:MM:SS|Mode".
    static func byKey(_ database: TestDatabase, _ columns: [String] = scoreFileColumns) throws -> [String: [String?]] {
        var map: [String: [String?]] = [:]
        for row in try database.query("SELECT ticker || '|' || to_char(scoring_date, 'YYYY-MM-DD HH24:MI:SS') || '|' || mode, \(select(columns)) FROM scores") {
            map[row[0]!] = Array(row.dropFirst())
        }
        return map
    }

    static func count(_ database: TestDatabase) throws -> Int {
        Int(try database.column("SELECT count(*) FROM scores")[0])!
    }

    /// One row's columns by name, or nil when the key is absent.
    static func row(_ database: TestDatabase, ticker: String, date: String, mode: String) throws -> [String: String]? {
        let rows = try database.query(
            "SELECT \(select(scoreFileColumns)) FROM scores WHERE ticker = $1 AND scoring_date = $2::timestamp AND mode = $3",
            [ticker, date, mode])
        guard let row = rows.first else { return nil }
        var named: [String: String] = [:]
        for (column, value) in zip(scoreFileColumns, row) { named[column] = value ?? "NULL" }
        return named
    }
}

/// One score record for a hand-made file: column name → text as written (nil: empty
/// unquoted CSV field, i.e. NULL; absent from JSON).
struct ScoreRecord: Sendable {
    var values: [String: String?]

    /// A valid Trader row: pillars and weighted 70, no risk, final 70, Buy, no guardrails.
    static func valid(ticker: String, date: String = "2024-10-08", mode: String = "Trader") -> ScoreRecord {
        var values: [String: String?] = [:]
        for column in scoreFileColumns { values[column] = "0.5" }
        values["ticker"] = ticker
        values["scoring_date"] = date
        values["mode"] = mode
        for pillar in ["f_score", "t_score", "r_score", "o_score", "q_score", "s_score"] { values[pillar] = "70" }
        values["weighted_score"] = "70"
        values["risk_penalty"] = "0"
        values["final_score"] = "70"
        values["band"] = "Buy"
        values["guardrails"] = .some(nil)
        values["as_of"] = "2024-10-08T10:30:00Z"
        return ScoreRecord(values: values)
    }

    subscript(column: String) -> String? {
        get { values[column] ?? nil }
        set { values[column] = .some(newValue) }
    }

    /// Applies overrides (a nil value makes the field empty).
    func with(_ overrides: [String: String?]) -> ScoreRecord {
        var copy = self
        for (column, value) in overrides { copy.values[column] = .some(value) }
        return copy
    }

    static func csvField(_ value: String?) -> String {
        guard let value else { return "" }
        if value.isEmpty || value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }

    func csvLine(_ columns: [String] = scoreFileColumns) -> String {
        columns.map { Self.csvField(self[$0]) }.joined(separator: ",")
    }

    /// A CSV file of `records` with the standard header.
    static func csv(_ records: [ScoreRecord], columns: [String] = scoreFileColumns, newline: String = "\n") -> String {
        ([columns.joined(separator: ",")] + records.map { $0.csvLine(columns) }).joined(separator: newline) + newline
    }

    /// A JSON object: numbers bare when they look like plain numbers, the rest as strings.
    func jsonObject(_ columns: [String] = scoreFileColumns) -> String {
        let members = columns.compactMap { column -> String? in
            guard let value = self[column] else { return nil }
            let bare = value.range(of: #"^-?[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil
            return "\"\(column)\": " + (bare ? value : "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\"")
        }
        return "{" + members.joined(separator: ", ") + "}"
    }
}

/// Unique keys for tests that share a database: a counter behind a lock.
enum UniqueKeys {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var next = 0

    static func number() -> Int { lock.withLock { next += 1; return next } }

    /// `U0000123ABCD.NS`: valid, and unique within this test process and across runs.
    static func ticker() -> String {
        let random = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(6).uppercased()
        let counter = String(number() % 100_000)
        return "U" + String(repeating: "0", count: 5 - counter.count) + counter + random + ".NS"
    }

    /// A date no other case of this process uses: one day per call from 1990-01-01.
    static func date() -> String {
        var components = DateComponents()
        components.year = 1990
        components.month = 1
        components.day = 1 + number()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: components)!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}

/// A database at head shared by the cases of one suite (each case uses keys of its own),
/// dropped when the suite ends. Creating, migrating and dropping a database per case would
/// cost about a second each; a rule table has dozens of cases.
struct SharedIngestDatabase: SuiteTrait, TestScoping {
    @TaskLocal static var current: TestDatabase?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // No slot for the suite: its cases run in parallel and take one per greyoak run.
        try await withTestDatabase(holdingSlot: false) { database in
            try await IngestCLI.upgradeHead(database)
            try await Self.$current.withValue(database) { try await function() }
        }
    }

    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> TestDatabase {
        try #require(current, "the suite needs the .sharedIngestDatabase trait", sourceLocation: sourceLocation)
    }
}

extension Trait where Self == SharedIngestDatabase {
    static var sharedIngestDatabase: Self { SharedIngestDatabase() }
}
