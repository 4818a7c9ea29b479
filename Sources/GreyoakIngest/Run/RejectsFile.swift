import Foundation
import GreyoakPostgres

/// The `--rejects` file: one JSON object per rejected row with its location, errors and
/// raw values, so that nothing is lost.
final class RejectsFile {
    private let handle: FileHandle
    let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw GreyoakError(.usage, "cannot write the rejects file \(path)")
        }
        self.handle = handle
    }

    func write(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    func close() throws { try handle.close() }
}
