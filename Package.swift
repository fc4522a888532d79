// swift-tools-version: 6.1
import PackageDescription

/// Shared settings for every Swift target (STYLE.md §2.1): C types stay out of public APIs.
let settings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("MemberImportVisibility"),
]


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
    // SIMD kernels in C, compiled per instruction-set level with function target attributes
    // and chosen at run time (CPUID): no unsafe flags, and one binary for every x86-64 CPU.
    .target(name: "CTomeKernels"),
    .target(name: "TomeCore", swiftSettings: settings),
    .target(name: "TomeLinalg", dependencies: ["TomeCore", "CBLAS", "CTomeKernels"], swiftSettings: settings),
    .target(name: "TomeIngest", dependencies: ["TomeCore"], swiftSettings: settings),
    .target(
      name: "TomeStore",
      dependencies: ["TomeCore", .product(name: "GRDB", package: "GRDB.swift")],
      swiftSettings: settings),
    .target(name: "TomeEmbed", dependencies: ["TomeCore", "TomeLinalg"], swiftSettings: settings),
    .target(name: "TomeIndex", dependencies: ["TomeCore", "TomeLinalg"], swiftSettings: settings),
    .target(name: "TomeModel", dependencies: ["TomeCore", "TomeLinalg"], swiftSettings: settings),
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
      name: "TomeBench",
      dependencies: ["TomeKit", "TomeCore", "TomeStore", "TomeEmbed", "TomeReasoning"],
      swiftSettings: settings),
    .target(
      name: "TomeServe",
      dependencies: ["TomeKit", "TomeCore", "TomeReasoning", .product(name: "Hummingbird", package: "hummingbird")],
      swiftSettings: settings),
    .target(
      name: "TomeCLI",
      dependencies: [
        "TomeKit", "TomeBench", "TomeCore", "TomeIngest", "TomeIndex", "TomeModel", "TomeLinalg", "TomeServe", "TomeReport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: settings),
    .executableTarget(name: "tome", dependencies: ["TomeCLI"], swiftSettings: settings),

    .target(name: "TomeTestSupport", dependencies: ["TomeCore"], path: "Tests/TomeTestSupport", swiftSettings: settings),
    .testTarget(name: "TomeCoreTests", dependencies: ["TomeCore", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeIngestTests", dependencies: ["TomeIngest", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeStoreTests", dependencies: ["TomeStore", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeLinalgTests", dependencies: ["TomeLinalg", "TomeTestSupport", "CTomeKernels"], swiftSettings: settings),
    .testTarget(name: "TomeEmbedTests", dependencies: ["TomeEmbed", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeIndexTests", dependencies: ["TomeIndex", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeModelTests", dependencies: ["TomeModel", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeLLMTests", dependencies: ["TomeLLM", "TomeTestSupport", "TomeKit", "TomeServe"], swiftSettings: settings),
    .testTarget(name: "TomeReasoningTests", dependencies: ["TomeReasoning", "TomeTestSupport", "TomeKit", "TomeBench"], swiftSettings: settings),
    .testTarget(name: "TomeReportTests", dependencies: ["TomeReport", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeKitTests", dependencies: ["TomeKit", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(name: "TomeBenchTests", dependencies: ["TomeBench", "TomeKit", "TomeStore", "TomeTestSupport"], swiftSettings: settings),
    .testTarget(
      name: "TomeCLITests",
      dependencies: ["TomeCLI", "TomeKit", "TomeLinalg", "TomeTestSupport", "tome"],
      swiftSettings: settings),
  ]
)
