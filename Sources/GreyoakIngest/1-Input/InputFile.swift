import Foundation
import GreyoakPostgres

/// One input to read: a file (maybe gzipped) or standard input.
public struct InputFile: Sendable, Equatable {
    /// What messages call it: the path as given, or `<stdin>`.
    public let name: String
    /// `nil` for standard input.
    public let path: String?
    public let format: InputFormat
    public let gzipped: Bool

    package init(name: String, path: String?, format: InputFormat, gzipped: Bool) {
        self.name = name
        self.path = path
        self.format = format
        self.gzipped = gzipped
    }

    /// ``expand(_:format:)``, failing when it finds no file at all.
    static func expandSome(_ paths: [String], format: InputFormat?) throws -> [InputFile] {
        let files = try expand(paths, format: format)
        guard !files.isEmpty else {
            throw GreyoakError(.invalidInput, "no score files found in \(paths.joined(separator: ", "))",
                               hint: "give .csv, .json, .ndjson or .jsonl files (optionally .gz), a directory of them, or - for stdin")
        }
        return files
    }

    /// Expands the paths a user gave into files: directories are walked recursively in
    /// sorted order (only files with a known extension are taken from them), `-` is
    /// standard input.
    ///
    /// - Throws: ``GreyoakError/Code/invalidInput`` for a missing path or an unknown format.
    public static func expand(_ paths: [String], format: InputFormat?) throws -> [InputFile] {
        var files: [InputFile] = []
        let fm = FileManager.default
        for path in paths {
            if path == "-" {
                files.append(InputFile(name: "<stdin>", path: nil, format: format ?? .csv, gzipped: false))
                continue
            }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw GreyoakError(.invalidInput, "\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                guard let walker = fm.enumerator(atPath: path) else {
                    throw GreyoakError(.invalidInput, "\(path): cannot list the directory")
                }
                var found: [String] = []
                while let relative = walker.nextObject() as? String {
                    let full = (path as NSString).appendingPathComponent(relative)
                    var isDir: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue, detect(full) != nil {
                        found.append(full)
                    }
                }
                for full in found.sorted() {
                    let (detected, gzipped) = detect(full)!
                    files.append(InputFile(name: full, path: full, format: format ?? detected, gzipped: gzipped))
                }
            } else if let (detected, gzipped) = detect(path) {
                files.append(InputFile(name: path, path: path, format: format ?? detected, gzipped: gzipped))
            } else if let format {
                files.append(InputFile(name: path, path: path, format: format, gzipped: path.hasSuffix(".gz")))
            } else {
                throw GreyoakError(.invalidInput, "\(path): unknown format (expected .csv, .json, .ndjson or .jsonl, optionally .gz)",
                                   hint: "name the format with --format csv|json|ndjson")
            }
        }
        return files
    }

    /// The format and compression an extension says, or `nil`.
    package static func detect(_ path: String) -> (InputFormat, Bool)? {
        var name = path.lowercased()
        let gzipped = name.hasSuffix(".gz")
        if gzipped { name = String(name.dropLast(3)) }
        switch (name as NSString).pathExtension {
        case "csv": return (.csv, gzipped)
        case "json": return (.json, gzipped)
        case "ndjson", "jsonl": return (.ndjson, gzipped)
        default: return nil
        }
    }
}

extension InputFile {
    /// Where the `ordinal`th row of this file is: a CSV line, or a JSON record.
    func location(_ ordinal: Int) -> RowLocation {
        format == .csv ? .line(ordinal) : .record(ordinal)
    }
}
