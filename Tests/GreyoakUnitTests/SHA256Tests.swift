import Foundation
import Testing
import GreyoakPostgres

@Suite struct SHA256Tests {
    /// FIPS 180-4 examples, plus lengths around the 55/56/64-byte padding boundaries
    /// (digests from coreutils `sha256sum`).
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (String(repeating: "a", count: 63), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    ] as [(String, String)])
    func knownVectors(_ input: String, _ digest: String) {
        #expect(SHA256.hex(Array(input.utf8)) == digest)
    }

    @Test func oneMillionAs() {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(input) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func digestIs32BytesAndMatchesHex() {
        let digest = SHA256.digest(Array("abc".utf8))
        #expect(digest.count == 32)
        #expect(digest.prefix(4) == [0xBA, 0x78, 0x16, 0xBF])
        #expect(SHA256.hex("abc".utf8) == SHA256.hex(Array("abc".utf8)))
    }

    /// Fed in uneven pieces, the incremental hasher gives the one-shot digest.
    @Test(arguments: [1, 7, 63, 64, 65, 1000])
    func piecesGiveTheSameDigest(_ piece: Int) {
        let input = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = SHA256.Hasher()
        var start = 0
        while start < input.count {
            let end = min(start + piece, input.count)
            input[start..<end].withUnsafeBytes { hasher.update($0) }
            start = end
        }
        #expect(hasher.finalize() == SHA256.digest(input))
    }

    @Test func fileDigestReadsInChunks() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-sha-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Larger than the 1 MiB read buffer, so the digest spans reads.
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000 * 2).write(to: URL(fileURLWithPath: path))
        #expect(try SHA256.hexOfFile(path) == SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 2_000_000)))
        #expect(throws: GreyoakError.self) { try SHA256.hexOfFile(path + ".missing") }
    }
}
