import Foundation
import Testing
import TomeTestSupport

import TomeIngest

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct FileWalkerTests {
  @Test("walks a tree: sorted display paths, default ignores, include and exclude")
  func basicWalk() throws {
    let dir = try TemporaryDirectory()
    try dir.write("root/b.md", "b")
    try dir.write("root/a.txt", "a")
    try dir.write("root/sub/c.swift", "c")
    try dir.write("root/sub/test_c.swift", "t")
    try dir.write("root/.hidden/x.md", "x")
    try dir.write("root/.env", "x")
    try dir.write("root/.git/config", "x")
    try dir.write("root/.build/debug/x.txt", "x")
    try dir.write("root/node_modules/p/index.js", "x")
    let root = dir.url.appendingPathComponent("root").path

    let all = FileWalker(roots: [root]).walk()
    #expect(all.files.map(\.path) == ["a.txt", "b.md", "sub/c.swift", "sub/test_c.swift"].map { root + "/" + $0 })
    #expect(all.skipped.isEmpty)
    let first = try #require(all.files.first)
    #expect(first.size == 1)
    #expect(first.modificationTime > 1_600_000_000 * 1_000_000_000)
    #expect(first.url.path == root + "/a.txt")

    let filtered = FileWalker(roots: [root], rules: IgnoreRules(include: ["*.swift", "*.md"], exclude: ["**/test_*"]))
      .walk()
    #expect(filtered.files.map(\.path) == [root + "/b.md", root + "/sub/c.swift"])

    var rules = IgnoreRules()
    rules.exclude = ["sub"]
    #expect(FileWalker(roots: [root], rules: rules).walk().files.map(\.path) == [root + "/a.txt", root + "/b.md"])

    let withHidden = FileWalker(roots: [root], rules: IgnoreRules(skipsHidden: false)).walk()
    #expect(withHidden.files.map(\.path).contains(root + "/.hidden/x.md"))
    #expect(!withHidden.files.map(\.path).contains(root + "/.git/config"))
  }

  @Test("a relative root gives relative display paths; a file root is taken as is")
  func relativeRoot() throws {
    let dir = try TemporaryDirectory()
    try dir.write("docs/a.md", "a")
    try dir.write("docs/x/b.md", "b")
    let previous = FileManager.default.currentDirectoryPath
    // Display paths depend on the working directory; restore it even if an expectation fails.
    #expect(FileManager.default.changeCurrentDirectoryPath(dir.url.path))
    defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
    let result = FileWalker(roots: ["docs", "docs/x/b.md", "./docs/"]).walk()
    // The same files reached from several roots are kept once, under the smallest display path.
    #expect(result.files.map(\.path) == ["./docs/a.md", "docs/x/b.md"])
    let plain = FileWalker(roots: ["docs"]).walk()
    #expect(plain.files.map(\.path) == ["docs/a.md", "docs/x/b.md"])
    #expect(plain.files.allSatisfy { $0.url.path.hasPrefix("/") })
  }

  @Test("symlinked directory loop: the walk ends and the loop is reported once")
  func symlinkLoop() throws {
    let dir = try TemporaryDirectory()
    try dir.write("root/a/file.txt", "x")
    let root = dir.url.appendingPathComponent("root")
    try FileManager.default.createSymbolicLink(
      atPath: root.appendingPathComponent("a/back").path, withDestinationPath: "..")
    let result = FileWalker(roots: [root.path]).walk()
    #expect(result.files.map(\.path) == [root.path + "/a/file.txt"])
    let loops = result.skipped.filter { if case .symlinkLoop = $0.reason { true } else { false } }
    #expect(loops.count == 1)
    #expect(loops.first?.path == root.path + "/a/back")
    #expect(loops.first?.description.contains("symlink loop") == true)
    #expect(loops.first?.warning.description == loops.first?.description)
  }

  @Test("symlinks to files and folders are followed; duplicates by real path are kept once")
  func symlinksFollowed() throws {
    let dir = try TemporaryDirectory()
    try dir.write("data/real.txt", "x")
    try dir.write("root/own.txt", "y")
    let root = dir.url.appendingPathComponent("root")
    try FileManager.default.createSymbolicLink(
      atPath: root.appendingPathComponent("linked").path, withDestinationPath: dir.url.appendingPathComponent("data").path)
    try FileManager.default.createSymbolicLink(
      atPath: root.appendingPathComponent("alias.txt").path, withDestinationPath: "own.txt")
    let result = FileWalker(roots: [root.path]).walk()
    #expect(result.files.map(\.path) == [root.path + "/alias.txt", root.path + "/linked/real.txt"])
    #expect(result.skipped.isEmpty)
  }

  @Test("FIFOs, dangling symlinks and missing roots are reported as skipped")
  func oddEntries() throws {
    let dir = try TemporaryDirectory()
    try dir.write("root/ok.txt", "x")
    let root = dir.url.appendingPathComponent("root")
    #expect(mkfifo(root.appendingPathComponent("pipe").path, 0o644) == 0)
    try FileManager.default.createSymbolicLink(
      atPath: root.appendingPathComponent("dangling.txt").path, withDestinationPath: "nowhere.txt")
    let missing = dir.url.appendingPathComponent("missing").path
    let result = FileWalker(roots: [root.path, missing]).walk()
    #expect(result.files.map(\.path) == [root.path + "/ok.txt"])
    let reasons = Dictionary(uniqueKeysWithValues: result.skipped.map { ($0.path, $0.reason) })
    #expect(reasons[root.path + "/pipe"] == .notRegularFile(type: "FIFO"))
    #expect(reasons[root.path + "/dangling.txt"] == .danglingSymlink)
    #expect(reasons[missing] == .missing(cause: "No such file or directory"))
  }

  @Test("an unreadable directory is reported (only testable when not running as root)")
  func unreadableDirectory() throws {
    // Root ignores permission bits, so chmod 000 cannot make a folder unreadable there; the
    // FIFO/dangling-link test above covers the skip reporting in that case.
    guard getuid() != 0 else { return }
    let dir = try TemporaryDirectory()
    try dir.write("root/locked/x.txt", "x")
    let locked = dir.url.appendingPathComponent("root/locked")
    try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: locked.path)
    defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked.path) }
    let result = FileWalker(roots: [dir.url.appendingPathComponent("root").path]).walk()
    #expect(result.files.isEmpty)
    #expect(result.skipped.count == 1)
  }
}
