import Foundation
import Testing

/// The targets' dependencies point one way: a file of a target imports only targets below it.
///
/// SwiftPM lets a target import a module it does not declare when that module happens to be
/// built first, so the package manifest alone does not hold the line; this reads the sources.
@Suite("Architecture: imports point down")
struct ArchitectureTests {
    /// Lowest first; each may import only those before it.
    static let layers = ["GreyoakPostgres", "GreyoakSchema", "GreyoakMigrations", "GreyoakIngest", "GreyoakFuzzing"]
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// The Swift files of a target, and the Greyoak modules each imports.
    static func imports(of target: String) throws -> (files: Int, imports: [(file: String, module: String)]) {
        let root = sources.appendingPathComponent(target)
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        return (files.count, try files.flatMap { file in
            try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n")
                .compactMap { line -> (String, String)? in
                    let words = line.split(separator: " ")
                    guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                          words[..<index].allSatisfy({ ["@testable", "internal", "public", "package", "@_exported"].contains($0) }),
                          words[index + 1].hasPrefix("Greyoak") else { return nil }
                    return (target + "/" + file, String(words[index + 1]))
                }
        })
    }

    @Test(arguments: layers)
    func importsOnlyLowerTargets(_ target: String) throws {
        let allowed = Set(Self.layers.prefix(while: { $0 != target }))
        let (files, found) = try Self.imports(of: target)
        #expect(files > 0, "no Swift files under Sources/\(target)")
        #expect(!found.isEmpty || target == Self.layers[0], "no imports read from \(target): is the path right?")
        for (file, module) in found {
            #expect(allowed.contains(module), "\(file) imports \(module), which is not below \(target)")
        }
    }
}
