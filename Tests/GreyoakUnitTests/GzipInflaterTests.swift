import Foundation
import Testing
import GreyoakIngest

/// gzip is read as `gzip -d` reads it: every member, each checked, and nothing else.
@Suite("gzip: concatenated members, checks, truncation, trailing bytes")
struct GzipInflaterTests {
    static let first = Array("ticker,scoring_date,mode\nA,2024-10-08,Trader\n".utf8)
    static let second = Array("B,2024-10-08,Investor\n".utf8)

    static let chunkSizes = [1, 2, 7, 100, Int.max]

    @Test("concatenated members are all read, at every chunk size")
    func concatenated() throws {
        let data = try Self.gzip(Self.first) + Self.gzip(Self.second) + Self.gzip([])
        for size in Self.chunkSizes {
            #expect(try Self.inflate(data, chunkSize: size) == Self.first + Self.second, "\(size)-byte chunks")
        }
    }

    @Test("a member ending exactly at a chunk boundary does not end the file")
    func memberAtChunkEnd() throws {
        let one = try Self.gzip(Self.first)
        #expect(try Self.inflate(one + Self.gzip(Self.second), chunkSize: one.count) == Self.first + Self.second)
    }

    /// Each broken stream and the words of its error.
    static let broken: [(label: String, make: @Sendable () throws -> [UInt8], error: String)] = [
        ("truncated in the data", { Array(try gzip(first + second).dropLast(12)) }, "ends inside member 1 (truncated file?)"),
        ("truncated in the trailer", { Array(try gzip(first).dropLast(3)) }, "ends inside member 1"),
        ("second member truncated", { try gzip(first) + Array(try gzip(second).prefix(15)) }, "ends inside member 2"),
        ("bad CRC", { var data = try gzip(first); data[data.count - 8] ^= 1; return data }, "incorrect data check"),
        ("bad length", { var data = try gzip(first); data[data.count - 4] ^= 1; return data }, "incorrect length check"),
        ("trailing garbage", { try gzip(first) + Array("garbage".utf8) }, "trailing bytes after gzip member 1 are not gzip data"),
        ("trailing zeros", { try gzip(first) + [0, 0, 0, 0] }, "trailing bytes after gzip member 1"),
        ("not gzip", { Array("ticker,mode\n".utf8) }, "not valid gzip data in member 1"),
        ("empty", { [] }, "the file is empty"),
    ]

    @Test("broken streams are errors, at every chunk size", arguments: broken)
    func brokenStream(_ input: (label: String, make: @Sendable () throws -> [UInt8], error: String)) throws {
        let data = try input.make()
        for size in Self.chunkSizes {
            do {
                _ = try Self.inflate(data, chunkSize: size)
                Issue.record("\(input.label): accepted in \(size)-byte chunks")
            } catch let error as RowError {
                #expect(error.isFatal && error.location == .file && error.rule.code == "bad_gzip")
                #expect(error.description.hasPrefix("t.gz: "), "\(error)")
                #expect(error.rule.description.contains(input.error), "\(input.label): \(error)")
            }
        }
    }

    @Test("a small file that inflates to a lot comes out in pieces no larger than asked")
    func bombInPieces() throws {
        let data = try Self.gzip([UInt8](repeating: 0x41, count: 20 << 20))
        #expect(data.count < 64 << 10)
        let inflater = try GzipInflater(name: "t.gz")
        inflater.feed(data)
        var total = 0
        while let piece = try inflater.drain(1 << 16) {
            #expect(piece.count <= 1 << 16)
            total += piece.count
        }
        try inflater.finish()
        #expect(total == 20 << 20)
    }

    static func inflate(_ data: [UInt8], chunkSize: Int) throws -> [UInt8] {
        let inflater = try GzipInflater(name: "t.gz")
        var out: [UInt8] = []
        var start = 0
        while start < data.count {
            let end = start + min(chunkSize, data.count - start)
            inflater.feed(Array(data[start..<end]))
            start = end
            while let piece = try inflater.drain(64) { out += piece }
        }
        try inflater.finish()
        return out
    }

    /// gzip's own output (one member), so the tests do not trust our encoder.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c -n"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread { input.fileHandleForWriting.write(Data(bytes)); try? input.fileHandleForWriting.close() }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }
}
