import Foundation
import Testing
import GreyoakTestSupport

/// A generated CSV file and how to spoil some of its rows.
struct GeneratedCSV {
    let path: String
    var lines: [String]

    /// `scripts/gen-scores --out PATH` with `options`.
    init(_ scratch: IngestScratch, _ name: String, _ options: [String]) throws {
        path = scratch.file(name)
        try GenScores.run(options + ["--out", path])
        lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Sets one field of the first unquoted row at or after physical line `line` (1-based,
    /// header = 1); returns the line used and the row's key.
    @discardableResult
    mutating func spoil(near line: Int, column: String, value: String) throws -> (line: Int, ticker: String, date: String, mode: String) {
        let index = try #require(scoreFileColumns.firstIndex(of: column))
        let row = try #require((line - 1..<lines.count).first { !lines[$0].contains("\"") })
        var fields = lines[row].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[index] = value
        lines[row] = fields.joined(separator: ",")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (row + 1, fields[0], fields[1], fields[2])
    }
}

@Suite("Ingest loads")
struct IngestLoadTests {
    static let base = ["--tickers", "50", "--days", "2", "--seed", "11"]
    static let changed = base + ["--changed-fraction", "0.1", "--change-seed", "7"]
    static let withTimestamps = scoreFileColumns + ["created_at", "updated_at"]

    // MARK: All or nothing

    @Test("one bad row among many: exit 9, scores unchanged, the error points at it")
    func oneBadRow() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let first = try await IngestCLI.ingest(database, [try GeneratedCSV(scratch, "base.csv", Self.base).path])
            try #require(first.status == 0, "\(first)")
            let before = try ScoresTable.snapshot(database, Self.withTimestamps)
            #expect(before.count == 200)

            var update = try GeneratedCSV(scratch, "changed.csv", Self.changed)
            let line = try update.spoil(near: 120, column: "q_score", value: "100.01").line
            let result = try await IngestCLI.ingest(database, [update.path, "--json"])
            #expect(result.status == 9, "\(result)")
            #expect(result.rowErrors(in: [update.path]) == ["\(update.path):\(line): column q_score: value \"100.01\": is outside [0, 100]"])
            #expect(result.stderr.contains("nothing was loaded: 1 of 200 rows are invalid"), "\(result)")
            let report = try result.report()
            #expect(report.rowsRead == 200 && report.rejected == 1 && report.inserted == 0 && report.updated == 0, "\(report)")
            #expect(try ScoresTable.snapshot(database, Self.withTimestamps) == before)
        }
    }

    @Test("--max-report 2 prints two errors and a count of the rest")
    func maxReport() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            var file = try GeneratedCSV(scratch, "base.csv", Self.base)
            var lines: [Int] = []
            for near in [10, 50, 90, 130, 170] { lines.append(try file.spoil(near: near, column: "r_score", value: "abc").line) }
            let result = try await IngestCLI.ingest(database, [file.path, "--max-report", "2"])
            #expect(result.status == 9, "\(result)")
            #expect(result.rowErrors(in: [file.path]) == lines.prefix(2).map { "\(file.path):\($0): column r_score: value \"abc\": is not a number" })
            #expect(result.errorLines.contains { $0.contains("and 3 more error(s)") }, "\(result)")
            #expect(result.stderr.contains("nothing was loaded: 5 of 200 rows are invalid"), "\(result)")
            #expect(try ScoresTable.count(database) == 0)
        }
    }

    // MARK: --max-errors and --rejects

    @Test("--max-errors N --rejects FILE loads the good rows and keeps the bad ones")
    func maxErrors() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            var file = try GeneratedCSV(scratch, "base.csv", Self.base)
            let spoiled = [
                try file.spoil(near: 20, column: "f_score", value: "100.01"),
                try file.spoil(near: 80, column: "band", value: "Stong Buy"),
                try file.spoil(near: 150, column: "t_z", value: "NaN"),
            ]
            let rejects = scratch.file("rejects.jsonl")

            // One more error than allowed: nothing at all.
            let refused = try await IngestCLI.ingest(database, [file.path, "--max-errors", "2", "--rejects", rejects, "--json"])
            #expect(refused.status == 9, "\(refused)")
            #expect(refused.stderr.contains("more than --max-errors 2"), "\(refused)")
            #expect(try ScoresTable.count(database) == 0)

            let result = try await IngestCLI.ingest(database, [file.path, "--max-errors", "3", "--rejects", rejects, "--json"])
            #expect(result.status == 0, "\(result)")
            let report = try result.report()
            #expect(report.rowsRead == 200 && report.inserted == 197 && report.rejected == 3 && report.outcome == "committed", "\(report)")
            #expect(try ScoresTable.count(database) == 197)
            for bad in spoiled {
                #expect(try ScoresTable.row(database, ticker: bad.ticker, date: bad.date + " 00:00:00", mode: bad.mode) == nil,
                        "the rejected row \(bad) was loaded")
            }

            let lines = try scratch.read("rejects.jsonl").split(separator: "\n")
            #expect(lines.count == 3)
            let expected: [(column: String, value: String, rule: String)] =
                [("f_score", "100.01", "out_of_range"), ("band", "Stong Buy", "not_a_band"), ("t_z", "NaN", "not_finite")]
            for (index, line) in lines.enumerated() where index < 3 {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                #expect(object["file"] as? String == file.path)
                #expect(object["location"] as? String == String(spoiled[index].line))
                let errors = try #require(object["errors"] as? [String], "\(line)")
                #expect(errors.count == 1 && errors[0].hasPrefix(
                    "\(file.path):\(spoiled[index].line): column \(expected[index].column): value \"\(expected[index].value)\""), "\(errors)")
                let rules = try #require(object["rules"] as? [[String: String]], "\(line)")
                #expect(rules == [["column": expected[index].column, "rule": expected[index].rule]], "\(rules)")
                let row = try #require(object["row"] as? [String: String], "\(line)")
                #expect(row["ticker"] == spoiled[index].ticker)
                #expect(row[expected[index].column] == expected[index].value)
                #expect(Set(row.keys).isSubset(of: Set(scoreFileColumns)) && row.count >= 19, "\(row.keys.sorted())")
            }
        }
    }

    @Test("--max-errors without --rejects is a usage error (exit 2)")
    func maxErrorsNeedsRejects() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let result = try await IngestCLI.ingest(database, [InputShape.sample, "--max-errors", "5"])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("--rejects"), "\(result)")
            #expect(try ScoresTable.count(database) == 0)
        }
    }

    @Test("an unknown key in --settings is a usage error (exit 2)")
    func unknownSetting() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let settings = try scratch.write("settings.json", #"{"strong_buy": 70}"#)
            let result = try await IngestCLI.ingest(database, [InputShape.sample, "--settings", settings])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("unknown setting \"strong_buy\""), "\(result)")
            #expect(try ScoresTable.count(database) == 0)
        }
    }

    // MARK: Duplicates

    /// TCS.NS Trader twice: line 2 of a CSV and record 1 of an NDJSON file after it. A dry
    /// run must judge (and word) it as the real run does.
    @Test("a key in two files: error naming both places; --on-duplicate last keeps the later row", arguments: [false, true])
    func duplicateAcrossFiles(dryRun: Bool) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let a = try scratch.write("a.csv", ScoreRecord.csv([
                ScoreRecord.valid(ticker: "TCS.NS"), ScoreRecord.valid(ticker: "INFY.NS"),
            ]))
            let b = try scratch.write("b.ndjson", ScoreRecord.valid(ticker: "tcs.ns").with(RuleCase.scored("80", "Strong Buy")).jsonObject() + "\n")
            let mode = dryRun ? ["--dry-run"] : []

            let refused = try await IngestCLI.ingest(database, [a, b] + mode)
            #expect(refused.status == 9, "\(refused)")
            #expect(refused.rowErrors(in: [a, b]) == [
                "\(b):record 1: column ticker: value \"TCS.NS\": duplicate key (TCS.NS, 2024-10-08, Trader): also at \(a):2",
            ], "\(refused)")
            #expect(try ScoresTable.count(database) == 0)

            let kept = try await IngestCLI.ingest(database, [a, b, "--on-duplicate", "last", "--json"] + mode)
            #expect(kept.status == 0, "\(kept)")
            if !dryRun {
                #expect(try kept.report().inserted == 2)
                #expect(try database.column("SELECT final_score::text || ' ' || band FROM scores WHERE ticker = 'TCS.NS'") == ["80 Strong Buy"])
            }
        }
    }

    @Test("a key twice in one file: error naming both lines; --on-duplicate last keeps the later line", arguments: [false, true])
    func duplicateInOneFile(dryRun: Bool) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let file = try scratch.write("twice.csv", ScoreRecord.csv([
                ScoreRecord.valid(ticker: "TCS.NS", mode: "Investor"),
                ScoreRecord.valid(ticker: "INFY.NS", mode: "Investor"),
                ScoreRecord.valid(ticker: "TCS.NS", date: "2024-10-08T00:00:00Z", mode: "investor").with(RuleCase.scored("80", "Strong Buy")),
            ]))
            let mode = dryRun ? ["--dry-run"] : []

            let refused = try await IngestCLI.ingest(database, [file] + mode)
            #expect(refused.status == 9, "\(refused)")
            #expect(refused.rowErrors(in: [file]) == [
                "\(file):4: column ticker: value \"TCS.NS\": duplicate key (TCS.NS, 2024-10-08, Investor): also at \(file):2",
            ], "\(refused)")
            if dryRun {
                // Screened in fixed memory, then checked exactly in a second pass.
                #expect(refused.stderr.contains("1 key(s) may occur more than once; reading the input again"), "\(refused)")
                // Standard input too: screened, then read again from its kept copy; the same words.
                let piped = try await IngestCLI.ingest(database, ["-", "--format", "csv"] + mode, stdin: file)
                #expect(piped.status == 9, "\(piped)")
                #expect(piped.rowErrors(in: ["<stdin>"]) == [
                    "<stdin>:4: column ticker: value \"TCS.NS\": duplicate key (TCS.NS, 2024-10-08, Investor): also at <stdin>:2",
                ], "\(piped)")
                #expect(piped.stderr.contains("1 key(s) may occur more than once; reading the input again"), "\(piped)")
            }

            let kept = try await IngestCLI.ingest(database, [file, "--on-duplicate", "last", "--json"] + mode)
            #expect(kept.status == 0, "\(kept)")
            #expect(try kept.report().rowsRead == 3, "\(kept)")
            if !dryRun {
                #expect(try kept.report().inserted == 2)
                #expect(try database.column("SELECT final_score::text || ' ' || band FROM scores WHERE ticker = 'TCS.NS'") == ["80 Strong Buy"])
            }
        }
    }

    // MARK: The head gate

    @Test("a database at base: exit 3, nothing read or loaded", arguments: [false, true])
    func behindHead(downgraded: Bool) async throws {
        try await withTestDatabase { database in
            if downgraded {
                try await IngestCLI.upgradeHead(database)
                let down = try await CLI.run(["db", "downgrade", "base", "-q"], databaseURL: database.url, migrations: IngestRepo.migrations)
                try #require(down.status == 0, "\(down)")
            }
            // A malformed file: had it been read, the error would say so.
            let result = try await IngestCLI.ingest(database, [IngestRepo.path("sample-data/bad/malformed.json"), InputShape.sample])
            #expect(result.status == 3, "\(result)")
            #expect(result.stderr.contains("greyoak db upgrade head"), "\(result)")
            #expect(!result.stderr.contains("malformed"), "the input was read before the gate:\n\(result)")
            #expect(try !database.tableExists("scores"))
            #expect(try database.versionRows() ?? [] == [])
        }
    }

    @Test("an unknown revision in alembic_version: exit 4, nothing loaded")
    func unknownRevision() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            try database.query("UPDATE alembic_version SET version_num = 'feedfacecafe'")
            let result = try await IngestCLI.ingest(database, [InputShape.sample])
            #expect(result.status == 4, "\(result)")
            #expect(result.stderr.contains("feedfacecafe"), "\(result)")
            #expect(try ScoresTable.count(database) == 0)
            #expect(try database.versionRows() == ["feedfacecafe"])
        }
    }

    @Test("--auto-migrate upgrades a database at base, then loads")
    func autoMigrate() async throws {
        try await withTestDatabase { database in
            let result = try await IngestCLI.ingest(database, [InputShape.sample, "--auto-migrate", "--json"])
            #expect(result.status == 0, "\(result)")
            #expect(try database.versionRows() == [MigrationsDirectory.initialRevision])
            #expect(try result.report().inserted == 600)
            #expect(try ScoresTable.count(database) == 600)
        }
    }

    // MARK: Re-runs

    @Test("re-running the same file changes nothing; changed rows are updated, the rest untouched")
    func rerun() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let base = try GeneratedCSV(scratch, "base.csv", Self.base).path
            let changedPath = scratch.file("changed.csv")
            let changedCount = try GenScores.run(Self.changed + ["--out", changedPath])
            try #require(changedCount == 20)

            let first = try await IngestCLI.ingest(database, [base, "--json"])
            #expect(try first.report().inserted == 200, "\(first)")
            let loaded = try ScoresTable.byKey(database, Self.withTimestamps)

            let again = try await IngestCLI.ingest(database, [base, "--json"])
            #expect(again.status == 0, "\(again)")
            let report = try again.report()
            #expect(report.unchanged == 200 && report.inserted == 0 && report.updated == 0, "\(report)")
            #expect(try ScoresTable.byKey(database, Self.withTimestamps) == loaded, "a re-run touched rows (values or updated_at)")

            let update = try await IngestCLI.ingest(database, [changedPath, "--json"])
            #expect(update.status == 0, "\(update)")
            let updated = try update.report()
            #expect(updated.updated == 20 && updated.unchanged == 180 && updated.inserted == 0, "\(updated)")

            let after = try ScoresTable.byKey(database, Self.withTimestamps)
            #expect(after.count == 200)
            let values = scoreFileColumns.count, created = values, updatedAt = values + 1
            var moved = 0, bandChanges = 0
            for (key, old) in loaded {
                let new = try #require(after[key], "\(key) vanished")
                #expect(new[created] == old[created], "\(key): created_at changed")
                if Array(new[..<values]) == Array(old[..<values]) {
                    #expect(new[updatedAt] == old[updatedAt], "\(key): unchanged row got a new updated_at")
                } else {
                    moved += 1
                    #expect(new[updatedAt]! > old[updatedAt]!, "\(key): changed row kept its updated_at")
                    if new[12] != old[12] { bandChanges += 1 }
                }
            }
            #expect(moved == 20)
            #expect(bandChanges > 0, "the changed file should move some bands")

            let settled = try await IngestCLI.ingest(database, [changedPath, "--json"])
            #expect(try settled.report().unchanged == 200, "\(settled)")
            #expect(try ScoresTable.byKey(database, Self.withTimestamps) == after)
        }
    }

    // MARK: --dry-run and --no-commit

    @Test("--dry-run writes nothing and says so; --no-commit counts, then writes nothing")
    func dryRunAndNoCommit() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let base = try GeneratedCSV(scratch, "base.csv", Self.base).path
            let changedPath = scratch.file("changed.csv")
            try GenScores.run(Self.changed + ["--out", changedPath])

            let dry = try await IngestCLI.ingest(database, [base, "--dry-run", "--json"])
            #expect(dry.status == 0, "\(dry)")
            #expect(dry.stderr.contains("dry run: 200 rows are valid; nothing was sent to the database"), "\(dry)")
            let dryReport = try dry.report()
            #expect(dryReport.outcome == "dry run" && dryReport.rowsRead == 200 && dryReport.inserted == 0, "\(dryReport)")
            #expect(try ScoresTable.count(database) == 0)

            let noCommit = try await IngestCLI.ingest(database, [base, "--no-commit", "--json"])
            #expect(noCommit.status == 0, "\(noCommit)")
            let noCommitReport = try noCommit.report()
            #expect(noCommitReport.inserted == 200 && noCommitReport.outcome.contains("rolled back"), "\(noCommitReport)")
            #expect(try ScoresTable.count(database) == 0)

            let load = try await IngestCLI.ingest(database, [base])
            try #require(load.status == 0, "\(load)")
            let before = try ScoresTable.snapshot(database, Self.withTimestamps)
            let rehearsal = try await IngestCLI.ingest(database, [changedPath, "--no-commit", "--json"])
            let rehearsed = try rehearsal.report()
            #expect(rehearsed.updated == 20 && rehearsed.unchanged == 180 && rehearsed.outcome.contains("rolled back"), "\(rehearsed)")
            let dryChanged = try await IngestCLI.ingest(database, [changedPath, "--dry-run"])
            #expect(dryChanged.status == 0, "\(dryChanged)")
            #expect(try ScoresTable.snapshot(database, Self.withTimestamps) == before)

            let both = try await IngestCLI.ingest(database, [base, "--dry-run", "--no-commit"])
            #expect(both.status == 2, "\(both)")
        }
    }

    // MARK: Writers and concurrency

    @Test("--writers 1 and --writers 3 give the same table and counts")
    func writerCounts() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let options = ["--tickers", "300", "--days", "3", "--seed", "5"]
            let base = try GeneratedCSV(scratch, "base.csv", options).path
            let changedPath = scratch.file("changed.csv")
            try GenScores.run(options + ["--changed-fraction", "0.05", "--change-seed", "2", "--out", changedPath])

            var tables: [[[String?]]] = [], reports: [[IngestReport]] = []
            for writers in ["1", "3"] {
                try database.query("TRUNCATE scores")
                let first = try await IngestCLI.ingest(database, [base, "--writers", writers, "--json"])
                let second = try await IngestCLI.ingest(database, [changedPath, "--writers", writers, "--json"])
                #expect(first.status == 0 && second.status == 0, "\(first)\n\(second)")
                var pair = [try first.report(), try second.report()]
                #expect(pair.allSatisfy { $0.writers == Int(writers) }, "\(pair)")
                for index in pair.indices { pair[index].writers = 0 }
                reports.append(pair)
                tables.append(try ScoresTable.snapshot(database))
            }
            #expect(reports[0] == reports[1])
            #expect(reports[0].first?.inserted == 1800 && reports[0].last?.updated == 90, "\(reports[0])")
            #expect(tables[0].count == 1800)
            #expect(tables[0] == tables[1])
        }
    }

    /// Each writer compares its rows only with the rows of `scores` on its own tickers and the
    /// staged dates: a file of some tickers, over dates present and one new, beside other
    /// tickers on the same dates, must classify exactly and leave the other tickers alone.
    @Test("re-ingesting some tickers over present and new dates: exact counts, other tickers untouched", arguments: ["1", "2"])
    func partialReingest(writers: String) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            // The first 40 tickers of a 120-ticker run are the 40-ticker run (same seed).
            let base = try GeneratedCSV(scratch, "base.csv", ["--tickers", "120", "--days", "3", "--seed", "5"]).path
            let subsetOptions = ["--tickers", "40", "--days", "4", "--seed", "5"]
            let subset = try GeneratedCSV(scratch, "subset.csv", subsetOptions).path
            let changedPath = scratch.file("changed.csv")
            let changedCount = try GenScores.run(subsetOptions + ["--changed-fraction", "0.1", "--change-seed", "3", "--out", changedPath])
            try #require(changedCount > 0)

            try #require(try await IngestCLI.ingest(database, [base]).status == 0)
            let loaded = try ScoresTable.byKey(database, Self.withTimestamps)

            let again = try await IngestCLI.ingest(database, [subset, "--writers", writers, "--json"])
            let report = try again.report()
            #expect(report.inserted == 80 && report.unchanged == 240 && report.updated == 0, "\(again)")
            let after = try ScoresTable.byKey(database, Self.withTimestamps)
            #expect(after.count == 720 + 80)
            #expect(loaded.allSatisfy { after[$0.key] == $0.value }, "a row of the base changed")

            let update = try await IngestCLI.ingest(database, [changedPath, "--writers", writers, "--json"])
            let updated = try update.report()
            #expect(updated.updated == changedCount && updated.unchanged == 320 - changedCount && updated.inserted == 0, "\(update)")
            let final = try ScoresTable.byKey(database, Self.withTimestamps)
            #expect(final.count == 800)
            let moved = final.filter { after[$0.key] != $0.value }
            // Only the changed rows moved: the other tickers keep every value and timestamp.
            #expect(moved.count == changedCount)
        }
    }

    /// Two runs started together on files sharing 2,400 keys (different seeds, so every
    /// shared key has different values). Both must succeed, and the table must be what
    /// running them one after the other gives, in one of the two orders.
    @Test("two concurrent ingests on overlapping keys: both succeed, one of them wins everywhere", arguments: 1...2)
    func concurrentIngests(round: Int) async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            let one = try GeneratedCSV(scratch, "one.csv", ["--tickers", "400", "--days", "3", "--seed", "\(round * 10 + 1)"]).path
            let two = scratch.file("two.ndjson")
            try GenScores.run(["--tickers", "500", "--days", "3", "--seed", "\(round * 10 + 2)", "--format", "ndjson", "--out", two])

            async let first = IngestCLI.ingest(database, [one, "--json"], timeout: 60)
            async let second = IngestCLI.ingest(database, [two, "--json"], timeout: 60)
            let (a, b) = try await (first, second)
            #expect(a.status == 0, "\(a)")
            #expect(b.status == 0, "\(b)")
            let together = try ScoresTable.snapshot(database)
            #expect(together.count == 3000)

            func sequential(_ files: [String]) async throws -> [[String?]] {
                try database.query("TRUNCATE scores")
                for file in files {
                    let result = try await IngestCLI.ingest(database, [file])
                    try #require(result.status == 0, "\(result)")
                }
                return try ScoresTable.snapshot(database)
            }
            let oneLast = try await sequential([two, one])
            let twoLast = try await sequential([one, two])
            try #require(oneLast != twoLast)
            #expect(together == oneLast || together == twoLast, "the table mixes the two runs")
        }
    }

    // MARK: --each-file

    @Test("--each-file commits file by file and records each; after a bad file the same command resumes")
    func eachFileResumes() async throws {
        try await withTestDatabase { database in
            try await IngestCLI.upgradeHead(database)
            let scratch = try IngestScratch()
            defer { scratch.remove() }
            try FileManager.default.createDirectory(atPath: scratch.file("days"), withIntermediateDirectories: true)
            func day(_ date: String, mode: String = "Trader") -> String {
                ScoreRecord.csv(["TCS.NS", "INFY.NS", "RELIANCE.NS"].map { ScoreRecord.valid(ticker: $0, date: date, mode: mode) })
            }
            _ = try scratch.write("days/a.csv", day("2024-10-07"))
            _ = try scratch.write("days/b.csv", day("2024-10-08"))
            let bad = try scratch.write("days/c.csv", day("2024-10-09", mode: "Sideways"))
            let directory = scratch.file("days")

            let first = try await IngestCLI.ingest(database, [directory, "--each-file"])
            #expect(first.status == 9, "\(first)")
            #expect(first.stdout.contains("a.csv: committed: 1 file(s), 3 rows read, 3 inserted"), "\(first)")
            #expect(first.rowErrors(in: [bad]).count == 3, "\(first)")
            #expect(first.stderr.contains("the 2 of 3 file(s) before it stay committed"), "\(first)")
            #expect(try ScoresTable.count(database) == 6)
            #expect(try database.column("SELECT file FROM greyoak_ingest_log ORDER BY id") == [scratch.file("days/a.csv"), scratch.file("days/b.csv")])

            _ = try scratch.write("days/c.csv", day("2024-10-09"))
            let again = try await IngestCLI.ingest(database, [directory, "--each-file", "--json"])
            #expect(again.status == 0, "\(again)")
            #expect(try again.report().inserted == 3)
            #expect(again.lines.last?.contains("\"skipped_files\":2") == true, "\(again)")
            #expect(try ScoresTable.count(database) == 9)
            #expect(try database.column("SELECT count(*) FROM greyoak_ingest_log") == ["3"])

            // The ledger is greyoak's bookkeeping, not drift.
            let verify = try await CLI.run(["db", "verify"], databaseURL: database.url, migrations: IngestRepo.migrations)
            #expect(verify.status == 0, "\(verify)")
        }
    }

    @Test("--each-file takes neither standard input nor --max-errors (exit 2)", arguments: [
        ["-", "--each-file"], ["x.csv", "--each-file", "--max-errors", "1", "--rejects", "r.jsonl"],
    ])
    func eachFileUsage(_ arguments: [String]) async throws {
        let result = try await CLI.run(["ingest"] + arguments, databaseURL: unreachableDatabaseURL, migrations: IngestRepo.migrations)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--each-file"), "\(result)")
    }

    // MARK: Connections

    @Test("cannot connect: exit 7, and the password is not shown")
    func cannotConnect() async throws {
        let result = try await CLI.run(["ingest", "--no-progress", InputShape.sample],
                                       databaseURL: "postgresql://greyoak:s3cret-pw@127.0.0.1:1/nowhere",
                                       migrations: IngestRepo.migrations)
        #expect(result.status == 7, "\(result)")
        #expect(!result.stderr.contains("s3cret-pw"), "\(result)")
        #expect(result.stderr.contains("hint:"), "\(result)")
    }
}
