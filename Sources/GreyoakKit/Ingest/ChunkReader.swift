import CZlib
import Foundation

/// Reads a file or standard input in large chunks, inflating gzip on the way.
///
/// Owns its file descriptor and zlib stream and frees both when it is released.
final class ChunkReader {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let name: String
    private var inflater: GzipInflater?
    private var raw: [UInt8]
    private var finished = false
    let chunkSize: Int

    init(_ file: InputFile, chunkSize: Int = 256 << 10) throws {
        self.name = file.name
        self.chunkSize = chunkSize
        if let path = file.path {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                throw GreyoakError(.invalidInput, "\(path): cannot open: \(String(cString: strerror(errno)))")
            }
            ownsDescriptor = true
        } else {
            fd = STDIN_FILENO
            ownsDescriptor = false
        }
        raw = [UInt8](repeating: 0, count: chunkSize)
        if file.gzipped { inflater = try GzipInflater(name: file.name) }
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// The next chunk, or `nil` at the end of the input.
    func next() throws -> [UInt8]? {
        if let inflater {
            while true {
                if let out = try inflater.drain(chunkSize) { return out }
                if inflater.isFinished { return nil }
                guard let input = try readRaw() else {
                    if inflater.isFinished { return nil }
                    throw GreyoakError(.invalidInput, "\(name): the gzip stream ends early (truncated file?)")
                }
                inflater.feed(input)
            }
        }
        return try readRaw()
    }

    private func readRaw() throws -> [UInt8]? {
        if finished { return nil }
        let count = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
        if count < 0 { throw GreyoakError(.invalidInput, "\(name): read failed: \(String(cString: strerror(errno)))") }
        if count == 0 { finished = true; return nil }
        return Array(raw[0..<count])
    }
}

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
