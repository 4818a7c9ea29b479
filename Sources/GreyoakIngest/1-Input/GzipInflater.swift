internal import CZlib
import Foundation
import GreyoakPostgres

/// Inflates gzip data as it arrives, as `gzip -d` reads it: every member of a concatenated
/// file, each checked against its CRC-32 and length; anything after the last member that is
/// not another member, and a file that ends inside a member, are errors.
///
/// The `z_stream` lives in its own allocation: zlib keeps a pointer back to it and refuses
/// a stream that has moved, and a Swift stored property has no address it promises to keep.
/// Output comes out in pieces of at most the size asked for, so a small file that inflates
/// to gigabytes costs no more memory than a large one.
package final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let name: String
    private let fileIndex: Int
    private var input: [UInt8] = []
    private var inputOffset = 0
    /// Whether a member has just ended (with nothing read after it yet).
    private var atMemberEnd = false
    private var members = 0
    /// Compressed bytes consumed before the current `input`, for messages.
    private var consumedBefore = 0

    /// - Throws: ``GreyoakError`` when zlib cannot start.
    package init(name: String, fileIndex: Int = 0) throws {
        self.name = name
        self.fileIndex = fileIndex
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 window bits + 16: expect a gzip header (and check its trailer).
        guard inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw GreyoakError(.invalidInput, "\(name): cannot start gzip decoding")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Gives the inflater the next compressed bytes; call when ``drain(_:)`` returns nil.
    package func feed(_ bytes: [UInt8]) {
        consumedBefore += inputOffset
        input = bytes
        inputOffset = 0
    }

    /// Inflates up to `limit` bytes from what was fed; nil when it needs more input.
    ///
    /// - Throws: ``RowError`` (fatal, for the whole file) for data that is not gzip, fails
    ///   its check, or follows the last member without being one.
    package func drain(_ limit: Int) throws -> [UInt8]? {
        guard inputOffset < input.count else { return nil }
        var out = [UInt8](repeating: 0, count: limit)
        var produced = 0
        try input.withUnsafeMutableBytes { inBuffer in
            try out.withUnsafeMutableBytes { outBuffer in
                while produced < limit, inputOffset < inBuffer.count {
                    if atMemberEnd {
                        // More bytes after a member: another member must start here.
                        inflateReset(stream)
                        atMemberEnd = false
                    }
                    stream.pointee.next_in = inBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + inputOffset
                    stream.pointee.avail_in = uInt(inBuffer.count - inputOffset)
                    stream.pointee.next_out = outBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                    stream.pointee.avail_out = uInt(limit - produced)
                    let status = inflate(stream, Z_NO_FLUSH)
                    let read = inBuffer.count - Int(stream.pointee.avail_in) - inputOffset
                    let wrote = limit - Int(stream.pointee.avail_out) - produced
                    inputOffset += read
                    produced += wrote
                    switch status {
                    case Z_STREAM_END:
                        atMemberEnd = true
                        members += 1
                    case Z_OK:
                        break
                    case Z_BUF_ERROR where read == 0 && wrote == 0:
                        // No progress is possible with this much room; return what there is.
                        return
                    default:
                        throw failure(status)
                    }
                    if read == 0 && wrote == 0 && status != Z_STREAM_END { return }
                }
            }
        }
        if produced > 0 { return Array(out[0..<produced]) }
        // zlib neither read nor wrote: without this, the caller would ask again forever.
        if inputOffset < input.count { throw failure(Z_BUF_ERROR) }
        return nil
    }

    /// Checks the end of the compressed input.
    ///
    /// - Throws: ``RowError`` when the input ends inside a member (or holds none).
    package func finish() throws {
        guard atMemberEnd else {
            let offset = consumedBefore + inputOffset
            throw error(offset == 0 ? .badGzip(offset: nil, message: "the file is empty, not gzip data")
                        : .badGzip(offset: offset, message: "the gzip data ends inside member \(members + 1) (truncated file?)"))
        }
    }

    private func failure(_ status: Int32) -> RowError {
        let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
        let offset = consumedBefore + inputOffset
        if members > 0, reason == "incorrect header check" || reason == "unknown compression method" {
            return error(.badGzip(offset: offset, message: "trailing bytes after gzip member \(members) are not gzip data"))
        }
        return error(.badGzip(offset: offset, message: "not valid gzip data in member \(members + 1): \(reason)"))
    }

    /// An error about the whole file (`FILE: RULE`), which refuses the run.
    private func error(_ rule: RowError.Rule) -> RowError {
        RowError(file: name, fileIndex: fileIndex, location: .file, rule: rule, isFatal: true)
    }
}
