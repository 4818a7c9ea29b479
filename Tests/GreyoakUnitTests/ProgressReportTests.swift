import Testing
import GreyoakIngest

@Suite("Progress: share of input bytes read, ETA, and what is known without a total")
struct ProgressReportTests {
    static func report(phase: String = "reading", bytes: Int, total: Int?, elapsed: Double) -> ProgressReport {
        ProgressReport(phase: phase, rows: 157_696, files: 0, totalFiles: 2, bytes: bytes, totalBytes: total, elapsed: elapsed)
    }

    @Test("a known total gives a percentage, an ETA and a bar")
    func knownTotal() {
        let report = Self.report(bytes: 25_000_000, total: 100_000_000, elapsed: 10)
        #expect(report.line == "reading: 157696 rows, 15769 rows/s, files 0/2, 10.0 s, 25% of 100.0 MB, ETA 30 s")
        #expect(report.bar(width: 8) == "[##------]  25% " + report.line)
    }

    @Test("no ETA before a second and a percent have gone by")
    func tooEarly() {
        #expect(Self.report(bytes: 50, total: 100_000, elapsed: 5).secondsLeft == nil)
        #expect(Self.report(bytes: 50_000, total: 100_000, elapsed: 0.5).secondsLeft == nil)
        #expect(Self.report(bytes: 1_000, total: 100_000, elapsed: 30).secondsLeft == 2970)
    }

    @Test("standard input: bytes read, no percentage, no bar")
    func unknownTotal() {
        let report = Self.report(bytes: 12_345_678, total: nil, elapsed: 10)
        #expect(report.line == "reading: 157696 rows, 15769 rows/s, files 0/2, 10.0 s, 12.3 MB read")
        #expect(report.bar() == report.line)
    }

    @Test("after reading, the phase and the counts only")
    func afterReading() {
        let report = Self.report(phase: "upserting", bytes: 100, total: 100, elapsed: 12)
        #expect(report.line == "upserting: 157696 rows, 13141 rows/s, files 0/2, 12.0 s")
    }

    @Test("durations", arguments: [(59.4, "59 s"), (61, "1 min 1 s"), (7322, "2 h 2 min")])
    func durations(_ input: (Double, String)) {
        #expect(ProgressReport.duration(input.0) == input.1)
    }
}
