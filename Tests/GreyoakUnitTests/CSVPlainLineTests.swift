import Foundation
import Testing
import GreyoakIngest

/// The CSV parser splits plain lines itself and leaves the rest to libcsv. Whatever the
/// input and however it is cut into chunks, it must read exactly what libcsv alone reads.
@Suite("CSV: plain lines split without libcsv read as libcsv reads them")
struct CSVPlainLineTests {
    static let header = "ticker,scoring_date,mode,band,guardrails\n"

    /// Each a whole file; most after the header, some where the header is odd.
    static let inputs: [(label: String, text: String)] = [
        ("plain rows", header + "AAA.NS,2024-10-08,Trader,Strong Buy,\nBBB.NS,2024-10-08,Investor,Hold,LowCoverage\n"),
        ("CRLF everywhere", header.replacingOccurrences(of: "\n", with: "\r\n") + "AAA.NS,2024-10-08,Trader,Buy,\r\nBBB.NS,2024-10-08,Trader,Buy,x\r\n"),
        ("spaces at field ends are trimmed", header + " AAA.NS ,2024-10-08, Trader,Buy ,  \nBBB.NS,2024-10-08,Trader,Strong Buy,a b\n"),
        ("tabs", header + "AAA.NS\t,2024-10-08,Trader,\tBuy,\nBBB.NS,2024-10-08,Trader,Buy,in\tside\n"),
        ("quoted commas, newlines, empty string", header + "\"A,A\",2024-10-08,Trader,\"Buy\",\"two\nlines\"\nBBB.NS,2024-10-08,Trader,Buy,\"\"\n"),
        ("a quoted field over three lines, then plain", header + "AAA.NS,2024-10-08,Trader,Buy,\"1\n2\n3\"\nCCC.NS,2024-10-09,Trader,Hold,\n"),
        ("empty and blank lines", header + "\n   \n\r\nAAA.NS,2024-10-08,Trader,Buy,\n\n"),
        ("NULL fields", header + ",,,,\nAAA.NS,,Trader,,\n"),
        ("bare CR line ends", header + "AAA.NS,2024-10-08,Trader,Buy,\rBBB.NS,2024-10-08,Trader,Buy,\r"),
        ("CR inside a line", header + "AAA.NS,2024-10\r-08,Trader,Buy,\n"),
        ("too few and too many fields", header + "AAA.NS,2024-10-08\nBBB.NS,2024-10-08,Trader,Buy,,extra\nCCC.NS,2024-10-08,Trader,Buy,\n"),
        ("no newline at the end", header + "AAA.NS,2024-10-08,Trader,Buy,last"),
        ("CRLF, no newline at the end", header + "AAA.NS,2024-10-08,Trader,Buy,last\r"),
        ("byte-order mark", "\u{FEFF}" + header + "AAA.NS,2024-10-08,Trader,Buy,\n"),
        ("a quote inside an unquoted field", header + "AAA.NS,2024-10-08,Trader,Buy,\nA\"A,2024-10-08,Trader,Buy,\n"),
        ("text after a closing quote", header + "\"AAA\"x,2024-10-08,Trader,Buy,\n"),
        ("an unterminated quote", header + "AAA.NS,2024-10-08,Trader,Buy,\"open\nBBB\n"),
        ("one-column lines", header + "AAA.NS\n,\n"),
        ("header with spaces and quotes", " ticker ,\"scoring_date\",mode\nAAA.NS,2024-10-08,Trader\n"),
        ("header only", header),
        ("empty file", ""),
        ("quoted field with CRLF inside", header + "AAA.NS,2024-10-08,Trader,Buy,\"a\r\nb\"\r\nBBB.NS,2024-10-08,Trader,Buy,\r\n"),
    ]

    static let chunkSizes = [1, 2, 3, 5, 8, 13, 64, Int.max]

    @Test("same records, lines and errors as libcsv alone, at every chunk size", arguments: inputs)
    func sameAsLibcsv(_ input: (label: String, text: String)) throws {
        let reference = try Self.transcript(input.text, chunkSize: .max, splitsPlainLines: false)
        for size in Self.chunkSizes {
            let split = try Self.transcript(input.text, chunkSize: size, splitsPlainLines: true)
            #expect(split == reference, "\(input.label), \(size)-byte chunks")
            let libcsv = try Self.transcript(input.text, chunkSize: size, splitsPlainLines: false)
            #expect(libcsv == reference, "\(input.label), libcsv alone in \(size)-byte chunks")
        }
    }

    /// The comparison above would pass if both ways read nothing; this pins what they read.
    @Test("what plain, trimmed, quoted and CRLF lines read as")
    func knownReadings() throws {
        let text = Self.header + " AAA.NS ,2024-10-08,Trader,Strong Buy,\r\n\"B,B\",2024-10-09,Investor,Hold,\"x\ny\"\n\nCCC.NS,,Trader,Buy,\"\"\n"
        let lines = try Self.transcript(text, chunkSize: 7, splitsPlainLines: true)
        #expect(lines == [
            "line 2: AAA.NS|2024-10-08|Trader|Strong Buy|NULL",
            "line 3: B,B|2024-10-09|Investor|Hold|x\ny",
            "line 6: CCC.NS|NULL|Trader|Buy|",
        ])
    }

    /// One line per record (`line N: f1|f2|...`, NULL for an absent field), per row error and
    /// for a thrown error.
    static func transcript(_ text: String, chunkSize: Int, splitsPlainLines: Bool) throws -> [String] {
        var lines: [String] = []
        let columns: [ScoreColumn] = [.ticker, .scoringDate, .mode, .band, .guardrails]
        let file = InputFile(name: "t.csv", path: nil, format: .csv, gzipped: false)
        let parser = try CSVRecordParser(file: file, fileIndex: 0, batchSize: 2, ignoreUnknownFields: false,
                                         splitsPlainLines: splitsPlainLines, notices: { _ in }) { batch in
            for record in 0..<batch.count where batch.fault(record) == nil {
                let fields = columns.map { batch.text(record: record, column: $0) ?? "NULL" }
                lines.append("line \(batch.ordinal(record)): \(fields.joined(separator: "|"))")
            }
            lines += batch.errors.map { "error \($0)" }
        }
        do {
            try parser.feedAll(Array(text.utf8), chunkSize: chunkSize)
        } catch {
            lines.append("thrown \(error)")
        }
        return lines
    }
}
