internal import CZlib
import Foundation

/// A zlib inflate stream set up for gzip (and concatenated gzip members).
final class GzipInflater {
    private var stream = z_stream()
    private var input: [UInt8] = []
    private var inputOffset = 0
    private(set) var isFinished = false
    private let name: String

    init(name: String) throws {
        self.name = name
        // 15 window bits + 16: expect a gzip header.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GreyoakError(.invalidInput, "\(name): cannot start gzip decoding")
        }
    }

    deinit { inflateEnd(&stream) }

    func feed(_ bytes: [UInt8]) {
        input = bytes
        inputOffset = 0
    }

    /// Inflates up to `limit` bytes from what was fed; `nil` when more input is needed.
    func drain(_ limit: Int) throws -> [UInt8]? {
        guard inputOffset < input.count, !isFinished else { return nil }
        var out = [UInt8](repeating: 0, count: limit)
        var produced = 0
        try input.withUnsafeMutableBytes { inBuffer in
            try out.withUnsafeMutableBytes { outBuffer in
                while produced < limit, inputOffset < inBuffer.count {
                    stream.next_in = inBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + inputOffset
                    stream.avail_in = uInt(inBuffer.count - inputOffset)
                    stream.next_out = outBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                    stream.avail_out = uInt(limit - produced)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    inputOffset = inBuffer.count - Int(stream.avail_in)
                    produced = limit - Int(stream.avail_out)
                    if status == Z_STREAM_END {
                        // Another gzip member may follow (concatenated files).
                        if inputOffset < inBuffer.count { inflateReset(&stream) } else { isFinished = true; break }
                    } else if status != Z_OK && status != Z_BUF_ERROR {
                        let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                        throw GreyoakError(.invalidInput, "\(name): not valid gzip data: \(reason)")
                    } else if status == Z_BUF_ERROR {
                        break
                    }
                }
            }
        }
        if produced == 0 { return nil }
        return Array(out[0..<produced])
    }
}
