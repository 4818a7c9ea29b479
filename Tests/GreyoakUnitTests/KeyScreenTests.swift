import Testing
@testable import GreyoakIngest

@Suite("Dry-run key screen")
struct KeyScreenTests {
    /// Distinct keys (FNV-like hashes of consecutive numbers, as real key hashes are) must
    /// almost never be named; every repeated key must be.
    @Test("200,000 distinct keys: no candidate; each repeated key: a candidate")
    func distinctAndRepeated() {
        let screen = KeyScreen()
        func hash(_ n: UInt64) -> UInt64 { (0xcbf2_9ce4_8422_2325 ^ n) &* 0x100_0000_01b3 }
        for n in 0..<UInt64(200_000) { screen.insert(hash(n)) }
        #expect(screen.candidates.isEmpty)
        for n in [UInt64(0), 77, 199_999] { screen.insert(hash(n)) }
        #expect(screen.candidates == [hash(0), hash(77), hash(199_999)])
        #expect(!screen.overflowed)
    }

    @Test("past maxCandidates it gives up the list and says so")
    func overflow() {
        let screen = KeyScreen()
        for n in 0..<UInt64(KeyScreen.maxCandidates + 1) {
            screen.insert(n)
            screen.insert(n)
        }
        #expect(screen.overflowed)
        #expect(screen.candidates.isEmpty)
    }
}
