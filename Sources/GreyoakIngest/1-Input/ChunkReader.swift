import Foundation
import GreyoakPostgres

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
    /// Bytes read from the file so far (compressed bytes for gzip), for progress.
    private(set) var bytesRead = 0

    /// Standard input's kept copy, for a reader of standard input (see ``StdinSpool``).
    private let spool: StdinSpool?

    /// - Parameter spool: Where standard input is read through, so that it can be read again;
    ///   nil reads it directly, once.
    init(_ file: InputFile, fileIndex: Int = 0, chunkSize: Int = 256 << 10, spool: StdinSpool? = nil) throws {
        self.name = file.name
        self.chunkSize = chunkSize
        self.spool = file.path == nil ? spool : nil
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
        if file.gzipped { inflater = try GzipInflater(name: file.name, fileIndex: fileIndex) }
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// The next chunk (never empty), or `nil` at the end of the input.
    ///
    /// - Throws: ``GreyoakError`` for a read error, ``RowError`` for bad gzip data.
    func next() throws -> [UInt8]? {
        guard let inflater else { return try readRaw() }
        while true {
            if let out = try inflater.drain(chunkSize) { return out }
            guard let input = try readRaw() else {
                try inflater.finish()
                return nil
            }
            inflater.feed(input)
        }
    }

    private func readRaw() throws -> [UInt8]? {
        if finished { return nil }
        var count: Int
        if let spool {
            count = try raw.withUnsafeMutableBytes { try spool.read(into: $0.baseAddress!, count: chunkSize, at: bytesRead) }
        } else {
            repeat {
                count = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
            } while count < 0 && errno == EINTR  // a signal (a terminal resize) is not an error
            if count < 0 { throw GreyoakError(.invalidInput, "\(name): read failed: \(String(cString: strerror(errno)))") }
        }
        if count == 0 {
            finished = true
            return nil
        }
        bytesRead += count
        return Array(raw[0..<count])
    }
}
