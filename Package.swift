// swift-tools-version: 6.0
import PackageDescription

/// One set of settings for every target: Swift 6 language mode (strict concurrency) plus
/// the upcoming features we want to hold ourselves to already.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "greyoak",
    products: [
        .executable(name: "greyoak", targets: ["greyoak"]),
        .library(name: "GreyoakKit", targets: ["GreyoakKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C libraries, wrapped as system libraries. Only GreyoakKit's wrapper files import them.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCSV", providers: [.apt(["libcsv-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // SHA-256 of migration files and, for --each-file, of every data file: OpenSSL's
        // libcrypto, which libpq loads into the process anyway (swift-crypto compiled a second
        // copy of BoringSSL for one hash: about 150 s of every cold build).
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "GreyoakKit",
            dependencies: [
                "CLibPQ", "CCSV", "CZlib", "CCrypto",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "greyoak",
            dependencies: [
                "GreyoakKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The fuzz targets' driver: a replayer in a plain build, libFuzzer's entry point when
        // scripts/fuzz builds it with -sanitize=fuzzer,address -DFUZZING (see FuzzEntry.swift).
        .executableTarget(name: "greyoak-fuzz", dependencies: ["GreyoakKit"], swiftSettings: swiftSettings),
        // The fuzz regression inputs are read from the source tree by path, not bundled.
        .testTarget(name: "GreyoakUnitTests", dependencies: ["GreyoakKit"], exclude: ["FuzzRegressions"],
                    swiftSettings: swiftSettings),
        .testTarget(
            name: "GreyoakIntegrationTests",
            dependencies: ["GreyoakKit"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
