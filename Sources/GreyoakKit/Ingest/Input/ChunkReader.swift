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
