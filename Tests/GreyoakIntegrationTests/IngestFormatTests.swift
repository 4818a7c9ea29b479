import Foundation
import Testing
import GreyoakTestSupport

/// One way of handing greyoak the seed-47 nightly run (the rows of
/// `sample-data/nightly/scores-2024-10-08.csv`): a file shape, compression, standard input
/// or a `--format` override.
struct InputShape: Sendable, CustomTestStringConvertible {
    var label: String
    /// Makes the input in `scratch`; returns the ingest arguments and, for stdin, the file to pipe in.
    var make: @Sendable (IngestScratch) throws -> (arguments: [String], stdin: String?)
    /// Columns (or expressions) compared with the CSV load.
    var columns: [String] = scoreFileColumns
    /// Columns the shape does not carry: they must be NULL.
    var absent: [String] = []
    /// A phrase stderr must contain.
    var notice: String?

    var testDescription: String { label }

    static let sample = IngestRepo.path("sample-data/nightly/scores-2024-10-08.csv")

    /// gen-scores reproduces the sample run byte for byte with --seed 47.
    static func generated(_ name: String, _ options: [String], in scratch: IngestScratch) throws -> String {
        let path = scratch.file(name)
        try GenScores.run(["--seed", "47"] + options + ["--out", path])
        return path
    }

    /// The API shape has no weighted_score and no z-scores but s_z. It writes "no
    /// guardrails" as `[]` where the CSV leaves the field empty; either may be stored.
    static let apiAbsent = ["weighted_score", "f_z", "t_z", "r_z", "o_z", "q_z"]
    static let apiColumns = scoreFileColumns.filter { !apiAbsent.contains($0) }
        .map { $0 == "guardrails" ? "nullif(guardrails, '[]')" : $0 }

    static let all: [InputShape] = [
        InputShape(label: "API by-band JSON {\"stocks\": [...]}", make: { _ in
            ([IngestRepo.path("sample-data/api/scores-2024-10-08.json")], nil)
        }, columns: apiColumns, absent: apiAbsent, notice: "ignoring fields with no scores column: confidence, config_hash"),
        InputShape(label: "gzipped NDJSON (.ndjson.gz sample)", make: { _ in
            ([IngestRepo.path("sample-data/ndjson/scores-2024-10-08.ndjson.gz")], nil)
        }),
        InputShape(label: "JSON array (.json)", make: { ([try generated("s.json", ["--format", "json"], in: $0)], nil) }),
        InputShape(label: "NDJSON (.ndjson)", make: { ([try generated("s.ndjson", ["--format", "ndjson"], in: $0)], nil) }),
        InputShape(label: "NDJSON (.jsonl)", make: { ([try generated("s.jsonl", ["--format", "ndjson"], in: $0)], nil) }),
        InputShape(label: "gzipped CSV (.csv.gz)", make: { ([try generated("s.csv.gz", ["--gzip"], in: $0)], nil) }),
        InputShape(label: "gzipped API JSON (.json.gz)", make: { ([try generated("s.json.gz", ["--format", "api-json", "--gzip"], in: $0)], nil) },
                   columns: apiColumns, absent: apiAbsent),
        InputShape(label: "CSV on stdin (- --format csv)", make: { _ in (["-", "--format", "csv"], sample) }),
        InputShape(label: "NDJSON on stdin (- --format ndjson)", make: {
            (["-", "--format", "ndjson"], try generated("s.ndjson", ["--format", "ndjson"], in: $0))
        }),
        InputShape(label: "--format csv for a .txt file", make: { scratch in
            let path = scratch.file("scores.txt")
            try FileManager.default.copyItem(atPath: sample, toPath: path)
            return ([path, "--format", "csv"], nil)
        }),
        InputShape(label: "--format ndjson for NDJSON named .json", make: {
            ([try generated("lines.json", ["--format", "ndjson"], in: $0), "--format", "ndjson"], nil)
        }),
    ]
}

@Suite("Ingest formats and shapes")
struct IngestFormatTests {
    /// Loads the sample CSV, keeps what `scores` holds, empties it, loads the same run in
    /// another shape and compares: the same 600 rows with the same values.
    @Test("every shape loads the same rows as the nightly CSV", arguments: InputShape.all)
    func sameRows(_ shape: InputShape) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let reference = try await IngestCLI.ingest(database, [InputShape.sample, "--json"])
            try #require(reference.status == 0, "\(reference)")
            let expected = try ScoresTable.snapshot(database, shape.columns)
            #expect(expected.count == 600)
            try database.query("TRUNCATE scores")

            let (arguments, stdin) = try shape.make(scratch)
            let result = try await IngestCLI.ingest(database, arguments + ["--json"], stdin: stdin)
            #expect(result.status == 0, "\(result)")
            let report = try result.report()
            #expect(report.files == 1 && report.rowsRead == 600 && report.inserted == 600 && report.rejected == 0, "\(report)")
            #expect(try ScoresTable.snapshot(database, shape.columns) == expected)
            for column in shape.absent {
                #expect(try database.column("SELECT count(*) FROM scores WHERE \(column) IS NOT NULL") == ["0"], "\(column) should be NULL")
            }
            if let notice = shape.notice { #expect(result.stderr.contains(notice), "\(result)") }
        }
    }

    /// RFC 4180 details in one file, with LF or CRLF and with or without a byte-order mark.
    @Test("CSV: header in any order, quoted commas and newlines, empty unquoted field is NULL",
          arguments: ["\n", "\r\n"], [false, true])
    func csvDialect(newline: String, byteOrderMark: Bool) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let header = ["s_z", "mode", "band", "final_score", "guardrails", "ticker", "scoring_date", "weighted_score",
                          "risk_penalty", "as_of", "f_score"]
            let lines = [
                header.joined(separator: ","),
                // A quoted JSON array with commas and a line break inside.
                "-1.6,Investor,Hold,65,\"[\"\"SectorBear\"\",\(newline)\"\"LowDataHold\"\"]\",M&M.NS,2024-10-08,70,0,2024-10-08T10:30:00Z,70",
                // Empty unquoted fields: NULL.
                "0.25,trader,Buy,70,,TCS.NS,2024-10-08,70,0,,",
                "\"1.5\",\"Trader\",\"Avoid\",\"10\",,\"INFY.NS\",\"2024-10-08\",\"10\",\"0\",\"2024-10-08T16:00:00+05:30\",\"10\"",
            ]
            let text = (byteOrderMark ? "\u{FEFF}" : "") + lines.joined(separator: newline) + newline
            let file = try scratch.write("dialect.csv", text)
            let result = try await IngestCLI.ingest(database, [file, "--json"])
            #expect(result.status == 0, "\(result)")
            #expect(try result.report().inserted == 3)
            let rows = try ScoresTable.snapshot(database, ["ticker", "mode", "band", "final_score", "guardrails", "as_of", "f_score", "s_z", "t_score"])
            #expect(rows == [
                ["INFY.NS", "Trader", "Avoid", "10", nil, "2024-10-08 10:30:00", "10", "1.5", nil],
                ["M&M.NS", "Investor", "Hold", "65", #"["LowDataHold","SectorBear"]"#, "2024-10-08 10:30:00", "70", "-1.6", nil],
                ["TCS.NS", "Trader", "Buy", "70", nil, nil, nil, "0.25", nil],
            ])

            // The line numbers of later rows count the line break inside the quoted field.
            let bad = try scratch.write("bad.csv", (byteOrderMark ? "\u{FEFF}" : "") + (lines + [
                "0.25,Trader,Buy,70,,HDFCBANK.NS,2024-10-08,70,0,,100.5",
            ]).joined(separator: newline) + newline)
            let refused = try await IngestCLI.ingest(database, [bad])
            #expect(refused.status == 9, "\(refused)")
            #expect(refused.rowErrors(in: [bad]) == ["\(bad):6: column f_score: value \"100.5\": is outside [0, 100]"])
        }
    }

    @Test("the legacy table's names: date, score, f_pillar..s_pillar, guardrail_flags", arguments: ["csv", "json"])
    func legacyNames(format: String) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let file = format == "csv"
                ? try scratch.write("legacy.csv", """
                    id,ticker,date,mode,f_pillar,t_pillar,r_pillar,o_pillar,q_pillar,s_pillar,score,band,guardrail_flags,confidence,config_hash
                    1,TCS.NS,2024-10-08,Trader,61,62,63,64,65,66,60.5,Hold,"[""SectorBear""]",0.82,abc123

                    """)
                : try scratch.write("legacy.json", """
                    [{"id": 1, "ticker": "TCS.NS", "date": "2024-10-08", "mode": "Trader", "f_pillar": 61, "t_pillar": 62,
                      "r_pillar": 63, "o_pillar": 64, "q_pillar": 65, "s_pillar": 66, "score": 60.5, "band": "Hold",
                      "guardrail_flags": ["SectorBear"], "confidence": 0.82, "config_hash": "abc123"}]
                    """)
            let result = try await IngestCLI.ingest(database, [file])
            #expect(result.status == 0, "\(result)")
            #expect(result.stderr.contains("ignoring fields with no scores column"), "\(result)")
            #expect(try ScoresTable.snapshot(database, ["ticker", "scoring_date", "mode", "f_score", "t_score", "r_score", "o_score",
                                                         "q_score", "s_score", "final_score", "band", "guardrails"])
                    == [["TCS.NS", "2024-10-08 00:00:00", "Trader", "61", "62", "63", "64", "65", "66", "60.5", "Hold", #"["SectorBear"]"#]])
        }
    }

    @Test("the API wrapper: date, score, pillars.F..S, guardrail_flags; confidence and config_hash ignored with a notice")
    func apiWrapper() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let file = try scratch.write("api.json", """
                {"stocks": [
                  {"ticker": "TCS.NS", "date": "2024-10-08", "mode": "Investor", "score": 71.5, "band": "Buy",
                   "pillars": {"F": 80.1, "T": 60.2, "R": 55.3, "O": 70.4, "Q": 90.5, "S": 20.6},
                   "risk_penalty": 3.5, "guardrail_flags": ["SectorBear"], "confidence": 0.91, "s_z": -1.6,
                   "as_of": "2024-10-08T16:05:00+05:30", "config_hash": "0123abcd"},
                  {"ticker": "INFY.NS", "date": "2024-10-08", "mode": "Trader", "score": 40, "band": "Avoid",
                   "pillars": {"F": 1, "T": 2, "R": 3, "O": 4, "Q": 5, "S": 6}, "risk_penalty": 0, "guardrail_flags": [],
                   "confidence": 0.5, "s_z": 0.1, "as_of": "2024-10-08T10:35:00Z", "config_hash": "0123abcd"}
                ],
                "statistics": {"total": 2, "by_band": {"Buy": 1, "Avoid": 1}}}
                """)
            let result = try await IngestCLI.ingest(database, [file, "--json"])
            #expect(result.status == 0, "\(result)")
            #expect(result.errorLines.contains { $0.contains("ignoring fields with no scores column: confidence, config_hash") }, "\(result)")
            #expect(try result.report().inserted == 2)
            let columns = scoreFileColumns.map { $0 == "guardrails" ? "nullif(guardrails, '[]')" : $0 }
            #expect(try ScoresTable.snapshot(database, columns) == [
                ["INFY.NS", "2024-10-08 00:00:00", "Trader", "1", "2", "3", "4", "5", "6", nil, "0", "40", "Avoid", nil,
                 "2024-10-08 10:35:00", nil, nil, nil, nil, nil, "0.1"],
                ["TCS.NS", "2024-10-08 00:00:00", "Investor", "80.1", "60.2", "55.3", "70.4", "90.5", "20.6", nil, "3.5", "71.5", "Buy",
                 #"["SectorBear"]"#, "2024-10-08 10:35:00", nil, nil, nil, nil, nil, "-1.6"],
            ])
        }
    }

    /// Files are created out of order; the walk must still take them in sorted path order,
    /// which `--on-duplicate last` makes visible: the last file in sorted order wins.
    @Test("a directory is walked recursively in sorted order, other files skipped")
    func directory() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            func file(_ final: String, _ band: String) -> String {
                ScoreRecord.csv([ScoreRecord.valid(ticker: "TCS.NS").with(RuleCase.scored(final, band))])
            }
            let root = scratch.file("in")
            try scratch.write("in/z-last.csv", file("80", "Strong Buy"))
            try scratch.write("in/b/deep/er/one.csv", file("60", "Hold"))
            try scratch.write("in/a-first.ndjson", ScoreRecord.valid(ticker: "TCS.NS").with(RuleCase.scored("55", "Hold")).jsonObject() + "\n")
            try scratch.write("in/b/two.jsonl", ScoreRecord.valid(ticker: "INFY.NS").jsonObject() + "\n")
            try scratch.write("in/README.txt", "not scores")
            try scratch.write("in/b/notes.md", "# not scores")

            let refused = try await IngestCLI.ingest(database, [root, "--json"])
            #expect(refused.status == 9, "\(refused)")
            #expect(try refused.report().files == 4)
            // The key's second place in sorted order is reported, naming the first.
            let errors = refused.errorLines.filter { $0.contains("duplicate key") }
            #expect(errors == ["\(root)/b/deep/er/one.csv:2: column ticker: value \"TCS.NS\": duplicate key (TCS.NS, 2024-10-08, Trader): also at \(root)/a-first.ndjson:record 1 and 1 more place(s)"], "\(refused)")
            #expect(try ScoresTable.count(database) == 0)

            let result = try await IngestCLI.ingest(database, [root, "--on-duplicate", "last", "--json"])
            #expect(result.status == 0, "\(result)")
            let report = try result.report()
            #expect(report.files == 4 && report.rowsRead == 4 && report.inserted == 2, "\(report)")
            #expect(try database.column("SELECT final_score::text FROM scores WHERE ticker = 'TCS.NS'") == ["80"])
            #expect(try database.column("SELECT ticker FROM scores ORDER BY 1") == ["INFY.NS", "TCS.NS"])
        }
    }

    @Test("an unknown extension needs --format")
    func unknownExtension() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let file = try scratch.write("scores.dat", ScoreRecord.csv([ScoreRecord.valid(ticker: "TCS.NS")]))
            let refused = try await IngestCLI.ingest(database, [file])
            #expect(refused.status == 9, "\(refused)")
            #expect(refused.stderr.contains("unknown format") && refused.stderr.contains("--format"), "\(refused)")
            let loaded = try await IngestCLI.ingest(database, [file, "--format", "csv"])
            #expect(loaded.status == 0, "\(loaded)")
            #expect(try ScoresTable.count(database) == 1)
        }
    }
}
