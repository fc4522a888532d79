// swift-tools-version: 6.1
import PackageDescription

/// A downstream package: it depends on Tome the way any other package would, by version from a
/// git repository, never by path. `Scripts/examples.sh` (run by CI) clones this repository,
/// tags the clone and points `TOME_PACKAGE_URL` at it; without the variable the repository
/// this folder sits in is used, which then needs a tag of its own matching the requirement.
let tomeURL =
  Context.environment["TOME_PACKAGE_URL"] ?? "file:///" + Context.packageDirectory.split(separator: "/").dropLast().joined(separator: "/")
/// SwiftPM names a package by the last component of its URL (`tome` for `…/tome.git`).
let tomeIdentity = String(tomeURL.split(separator: "/").last ?? "tome").replacing(".git", with: "")

let package = Package(
  name: "TomeExamples",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(url: tomeURL, from: "0.1.0")
  ],
  targets: [
    .executableTarget(name: "AskFolder", dependencies: [.product(name: "TomeKit", package: tomeIdentity)])
  ]
)
