import Testing
@testable import GreyoakIngest

/// Which rows go into new partitions, and the bounds and names of those partitions.
@Suite("Partition layout: routing and the bounds of new partitions")
struct PartitionLayoutTests {
    /// Microseconds since 2000-01-01 of `text` (`YYYY-MM-DD`).
    static func micros(_ text: String) -> Int64 {
        Array(text.utf8).withUnsafeBufferPointer { try! CivilTime.parse($0.baseAddress!, $0.count) }
    }

    static let layout = PartitionLayout(
        bounded: [
            .init(name: "scores_legacy", low: .min, high: micros("2024-11-01")),
            .init(name: "scores_p2025_01", low: micros("2025-01-01"), high: micros("2025-02-01")),
            .init(name: "scores_p2025_03", low: micros("2025-03-10"), high: micros("2025-04-01")),
        ],
        defaultPartition: nil, interval: .month, intervalSource: "test")

    @Test("dates in a bounded partition stay; dates between or past them are new")
    func isNew() {
        let layout = Self.layout
        #expect(!layout.isNew(Self.micros("2019-05-05")))
        #expect(!layout.isNew(Self.micros("2024-10-31")))
        #expect(layout.isNew(Self.micros("2024-11-01")))
        #expect(!layout.isNew(Self.micros("2025-01-31")))
        #expect(layout.isNew(Self.micros("2025-02-14")))
        #expect(layout.isNew(Self.micros("2025-03-09")))
        #expect(!layout.isNew(Self.micros("2025-03-10")))
        #expect(layout.isNew(Self.micros("2031-12-31")))
    }

    @Test("a new partition is its month (or year), narrowed so as not to overlap a bounded one, and named for its start")
    func bounds() {
        let layout = Self.layout
        let feb = layout.newBounds(for: Self.micros("2025-02-14"))
        #expect(feb.low == Self.micros("2025-02-01") && feb.high == Self.micros("2025-03-01"))
        #expect(layout.name(of: feb.low) == "scores_p2025_02")
        let earlyMarch = layout.newBounds(for: Self.micros("2025-03-03"))
        #expect(earlyMarch.low == Self.micros("2025-03-01") && earlyMarch.high == Self.micros("2025-03-10"))
        #expect(layout.name(of: earlyMarch.low) == "scores_p2025_03_20250301")
        var yearly = layout
        yearly.interval = .year
        let year = yearly.newBounds(for: Self.micros("2024-12-24"))
        #expect(year.low == Self.micros("2024-11-01") && year.high == Self.micros("2025-01-01"))
        #expect(yearly.name(of: year.low) == "scores_p2024")
        let later = yearly.newBounds(for: Self.micros("2026-06-30"))
        #expect(later.low == Self.micros("2026-01-01") && later.high == Self.micros("2027-01-01"))
    }

    @Test("an interval is recognised from a partition's bounds: a calendar month, a year, or neither")
    func intervalOfBounds() {
        #expect(PartitionInterval.of(low: Self.micros("2025-12-01"), high: Self.micros("2026-01-01")) == .month)
        #expect(PartitionInterval.of(low: Self.micros("2024-02-01"), high: Self.micros("2024-03-01")) == .month)
        #expect(PartitionInterval.of(low: Self.micros("2024-01-01"), high: Self.micros("2025-01-01")) == .year)
        #expect(PartitionInterval.of(low: Self.micros("2024-01-01"), high: Self.micros("2024-01-08")) == nil)
        #expect(PartitionInterval.month.start(of: Self.micros("1999-12-31")) == Self.micros("1999-12-01"))
    }
}
