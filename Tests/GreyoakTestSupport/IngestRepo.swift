import Foundation

/// The repository, found from this file: Tests/GreyoakTestSupport/IngestRepo.swift.
package enum IngestRepo {
    package static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    package static func path(_ relative: String) -> String { root + "/" + relative }
    package static var migrations: String { path("migrations") }
}
