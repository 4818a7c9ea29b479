internal import CCrypto
import Foundation

/// SHA-256 as lowercase hex, for migration checksums and the `--each-file` ledger.
///
/// The hashing is OpenSSL's libcrypto (EVP, which uses the CPU's SHA instructions):
/// libpq loads that library into every greyoak process already, so SHA-256 costs no
/// dependency to compile. `--each-file` hashes every data file before it loads it.
public enum SHA256 {
    /// The lowercase hex digest of `bytes`.
    public static func hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        hexText(digest(bytes))
    }

    private static func hexText(_ digest: [UInt8]) -> String {
        digest.map { byte in byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
    }

    public static func digest<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = Hasher()
        Array(bytes).withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// The lowercase hex digest of a file, read 1 MiB at a time.
    ///
    /// - Throws: ``GreyoakError/Code/invalidInput`` when the file cannot be read.
    public static func hexOfFile(_ path: String) throws -> String {
        guard let file = fopen(path, "rb") else { throw GreyoakError(.invalidInput, "\(path): cannot read (\(String(cString: strerror(errno))))") }
        defer { fclose(file) }
        var hasher = Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) } }
            if count < buffer.count {
                if ferror(file) != 0 { throw GreyoakError(.invalidInput, "\(path): read error") }
                break
            }
        }
        return hexText(hasher.finalize())
    }

    /// Incremental SHA-256: ``update(_:)`` any number of times, then ``finalize()`` once.
    ///
    /// A noncopyable owner of one `EVP_MD_CTX`, freed in `deinit`.
    package struct Hasher: ~Copyable {
        private let context: OpaquePointer

        package init() {
            // Allocation and SHA-256's init fail only when the process is out of memory.
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto: cannot start a SHA-256 digest")
            }
            self.context = context
        }

        deinit { EVP_MD_CTX_free(context) }

        package mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            EVP_DigestUpdate(context, base, bytes.count)
        }

        package consuming func finalize() -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &digest, &length)
            return Array(digest.prefix(Int(length)))
        }
    }
}
