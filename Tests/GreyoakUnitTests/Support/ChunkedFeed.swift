import GreyoakIngest

extension RecordParser {
    /// Feeds `bytes` in chunks of `chunkSize` (the last one shorter), then finishes.
    func feedAll(_ bytes: [UInt8], chunkSize: Int) throws {
        var start = 0
        while start < bytes.count {
            let end = start + min(chunkSize, bytes.count - start)
            try feed(Array(bytes[start..<end]))
            start = end
        }
        try finish()
    }
}
