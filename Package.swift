// swift-tools-version: 6.1
import PackageDescription

/// Shared settings for every Swift target (STYLE.md §2.1): C types stay out of public APIs.
let settings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

/// Numeric targets are compiled for a Haswell baseline (AVX2 + FMA). Without a target CPU,
/// Swift's SIMD fused multiply-add becomes a libm call per lane (PERFORMANCE.md).
#if arch(x86_64)
let numeric: [SwiftSetting] = settings + [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let numeric: [SwiftSetting] = settings
#endif

let package = Package(
  name: "Tome",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "tome", targets: ["tome"]),
    .library(name: "TomeKit", targets: ["TomeKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
  ],
  targets: [
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    .target(name: "TomeCore", swiftSettings: settings),
    .target(name: "TomeLinalg", dependencies: ["TomeCore", "CBLAS"], swiftSettings: numeric),
    .target(name: "TomeIngest", dependencies: ["TomeCore"], swiftSettings: settings),
    .target(
      name: "TomeStore",
      dependencies: ["TomeCore", .product(name: "GRDB", package: "GRDB.swift")],
      swiftSettings: settings),
    .target(name: "TomeEmbed", dependencies: ["TomeCore", "TomeLinalg"], swiftSettings: numeric),
    .target(name: "TomeIndex", dependencies: ["TomeCore", "TomeLinalg"], swiftSettings: numeric),
    .target(name: "TomeModel", dependencies: ["TomeCore", "TomeLinalg"], swiftSettings: numeric),
    .target(name: "TomeLLM", dependencies: ["TomeCore", "CCurl"], swiftSettings: settings),
    .target(name: "TomeReasoning", dependencies: ["TomeCore"], swiftSettings: settings),
    .target(name: "TomeReport", dependencies: ["TomeCore"], swiftSettings: settings),
    .target(
      name: "TomeKit",
      dependencies: [
        "TomeCore", "TomeIngest", "TomeStore", "TomeEmbed", "TomeIndex", "TomeModel", "TomeLLM", "TomeReasoning",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: settings),
    .target(
      name: "TomeServe",
      dependencies: ["TomeKit", "TomeCore", "TomeReasoning", .product(name: "Hummingbird", package: "hummingbird")],
      swiftSettings: settings),
    .target(
      name: "TomeCLI",
      dependencies: [
        "TomeKit", "TomeCore", "TomeIngest", "TomeStore", "TomeIndex", "TomeModel", "TomeServe", "TomeReport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: settings),
    .executableTarget(name: "tome", dependencies: ["TomeCLI"], swiftSettings: settings),

    .target(name: "TomeTestSupport", dependencies: ["TomeCore"], path: "Tests/TomeTestSupport", swiftSettings: settings),
    .testTarget(name: "TomeCoreTests", dependencies: ["TomeCore", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeIngestTests", dependencies: ["TomeIngest", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeStoreTests", dependencies: ["TomeStore", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeLinalgTests", dependencies: ["TomeLinalg", "TomeTestSupport"], swiftSettings: numeric),
    .testTarget(name: "TomeEmbedTests", dependencies: ["TomeEmbed", "TomeTestSupport"], swiftSettings: numeric),
    .testTarget(name: "TomeIndexTests", dependencies: ["TomeIndex", "TomeTestSupport"], swiftSettings: numeric),
    .testTarget(name: "TomeModelTests", dependencies: ["TomeModel", "TomeTestSupport"], swiftSettings: numeric),
    .testTarget(name: "TomeLLMTests", dependencies: ["TomeLLM", "TomeTestSupport", "TomeKit", "TomeServe"], swiftSettings: settings),
    .testTarget(name: "TomeReasoningTests", dependencies: ["TomeReasoning", "TomeTestSupport", "TomeKit"], swiftSettings: settings),
    .testTarget(name: "TomeReportTests", dependencies: ["TomeReport", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeKitTests", dependencies: ["TomeKit", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(
      name: "TomeCLITests",
      dependencies: ["TomeCLI", "TomeKit", "TomeTestSupport", "tome"],
      swiftSettings: settings),
  ]
)
