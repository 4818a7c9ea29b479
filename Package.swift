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
        .library(name: "GreyoakIngest", targets: ["GreyoakIngest"]),
        .library(name: "GreyoakMigrations", targets: ["GreyoakMigrations"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C libraries, wrapped as system libraries. Only the wrapper files import them.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCSV", providers: [.apt(["libcsv-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // SHA-256 of migration files and, for --each-file, of every data file: OpenSSL's
        // libcrypto, which libpq loads into the process anyway (swift-crypto compiled a second
        // copy of BoringSSL for one hash: about 150 s of every cold build).
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The parts of greyoak, each depending only on the ones above it in this list.
        // The connection to PostgreSQL, its errors and settings, COPY, advisory locks, and
        // the small shared pieces (errors, queues, SHA-256, the SQL splitter).
        .target(
            name: "GreyoakPostgres",
            dependencies: [
                "CLibPQ", "CCrypto",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A schema's catalog read from PostgreSQL, compared, and the difference as SQL.
        .target(name: "GreyoakSchema", dependencies: ["GreyoakPostgres"], swiftSettings: swiftSettings),
        // `greyoak db`: migration files, the revision graph, the migrator, plans, backups,
        // verify and autogenerate. Load recovery reaches it through `LoadHousekeeping`.
        .target(name: "GreyoakMigrations", dependencies: ["GreyoakSchema"], swiftSettings: swiftSettings),
        // `greyoak ingest`: one folder per stage of the pipeline, then the load's recovery.
        .target(name: "GreyoakIngest", dependencies: ["GreyoakMigrations", "CCSV", "CZlib"],
                swiftSettings: swiftSettings),
        // The fuzz targets, shared by the fuzz driver and the unit tests' regression replays.
        .target(name: "GreyoakFuzzing", dependencies: ["GreyoakIngest"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "greyoak",
            dependencies: [
                "GreyoakIngest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The fuzz targets' driver: a replayer in a plain build, libFuzzer's entry point when
        // scripts/fuzz builds it with -sanitize=fuzzer,address -DFUZZING (see FuzzEntry.swift).
        .executableTarget(name: "greyoak-fuzz", dependencies: ["GreyoakFuzzing"], swiftSettings: swiftSettings),
        // What the test targets share: private clusters, the fault proxy, the CLI runner.
        .target(
            name: "GreyoakTestSupport",
            dependencies: ["GreyoakIngest"],
            path: "Tests/GreyoakTestSupport",
            swiftSettings: swiftSettings
        ),
        // The fuzz regression inputs are read from the source tree by path, not bundled.
        .testTarget(name: "GreyoakUnitTests", dependencies: ["GreyoakFuzzing", "GreyoakTestSupport"],
                    exclude: ["FuzzRegressions"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GreyoakIntegrationTests",
            dependencies: ["GreyoakIngest", "GreyoakTestSupport"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
