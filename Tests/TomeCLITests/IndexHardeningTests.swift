import Foundation
import Testing
@testable import TomeCLI
import TomeIngest
import TomeKit
import TomeTestSupport

/// Issue 11's weak spots around indexes and the command line: concurrent ingests, vanished
/// roots, odd `--index` paths, globs, and one-line errors.
@Suite(.serialized, .timeLimit(.minutes(15))) struct IndexHardeningTests {
  @Test("one writer per index: a second lock is refused naming the holder, and freed when the holder ends")
  func writerLockInProcess() throws {
    let dir = try TemporaryDirectory()
    var first: IndexWriterLock? = try IndexWriterLock(directory: dir.url, purpose: "test writer")
    let refused = #expect(throws: IndexLockedError.self) { _ = try IndexWriterLock(directory: dir.url, purpose: "second") }
    #expect(refused?.description.contains("pid \(getpid())") == true, "\(refused?.description ?? "")")
    #expect(refused?.description.contains("test writer") == true)
    #expect(first != nil)
    first = nil  // released with its holder
    let next = try IndexWriterLock(directory: dir.url, purpose: "next")
    withExtendedLifetime(next) {}
  }

  @Test("two tome ingest runs on one index: the second is refused and says who is writing")
  func concurrentIngest() throws {
    let dir = try TemporaryDirectory()
    let essays = SharedData.data("paul_graham_essays/essays")
    let (first, _, _) = try TomeBinary.start(["ingest", essays.path, "-q"], in: dir.url)
    defer {
      if first.isRunning { kill(first.processIdentifier, SIGKILL) }
      first.waitUntilExit()
    }
    let lock = dir.url.appendingPathComponent("Indexes/default/\(IndexWriterLock.fileName)")
    let start = ContinuousClock.now
    while first.isRunning, ContinuousClock.now - start < .seconds(120) {
      if let text = try? String(contentsOf: lock, encoding: .utf8), text.contains("pid") { break }
      Thread.sleep(forTimeInterval: 0.02)
    }
    try #require(first.isRunning, "the first ingest ended before a second could start")
    let second = try TomeBinary.run(["ingest", essays.path, "--no-embed", "-q"], in: dir.url)
    #expect(second.status == 1, "\(second.stderr)")
    #expect(second.stderr.contains("another process") && second.stderr.contains("pid \(first.processIdentifier)"), "\(second.stderr)")
    kill(first.processIdentifier, SIGKILL)
    first.waitUntilExit()
    // kill -9 leaves the file but not the lock.
    let third = try TomeBinary.run(["ingest", "--no-embed", "-q"], in: dir.url)
    #expect(third.status == 0, "\(third.stderr)")
  }

  @Test("a deleted root does not block re-syncing the others; --drop-root forgets it")
  func vanishedRoot() throws {
    let dir = try TemporaryDirectory()
    try dir.write("a/one.txt", "Alpha text about apples.\n")
    try dir.write("b/two.txt", "Beta text about bananas.\n")
    #expect(try TomeBinary.run(["ingest", "a", "b", "--no-embed", "-q"], in: dir.url).status == 0)
    try FileManager.default.removeItem(at: dir.url.appendingPathComponent("b"))
    try dir.write("a/three.txt", "Gamma text about cherries.\n")
    let resync = try TomeBinary.run(["ingest", "--no-embed"], in: dir.url)
    #expect(resync.status == 0, "\(resync.stderr)")
    #expect(resync.stderr.contains("tome ingest --drop-root b"), "\(resync.stderr)")
    let found = try TomeBinary.run(["search", "cherries", "--mode", "bm25"], in: dir.url)
    #expect(found.stdout.contains("three.txt"), "the other root was not re-synced: \(found.stdout)")

    let drop = try TomeBinary.run(["ingest", "--drop-root", dir.url.appendingPathComponent("b").path], in: dir.url)
    #expect(drop.status == 0, "\(drop.stderr)")
    let status = try TomeBinary.run(["status"], in: dir.url)
    #expect(!status.stdout.contains("two.txt") && status.stdout.contains("three.txt"), "\(status.stdout)")
    let again = try TomeBinary.run(["ingest", "--no-embed"], in: dir.url)
    #expect(again.status == 0 && !again.stderr.contains("--drop-root"), "\(again.stderr)")
    let wrong = try TomeBinary.run(["ingest", "--drop-root", "nowhere"], in: dir.url)
    #expect(wrong.status == 1 && wrong.stderr.contains("not an ingested root"), "\(wrong.stderr)")
  }

  @Test("odd --index paths get one clear line; a foreign SQLite database is left untouched")
  func oddIndexes() throws {
    let dir = try TemporaryDirectory()
    try dir.write("docs/a.txt", "Some text.\n")
    try dir.write("plain-file", "not a folder\n")
    for arguments in [["search", "text", "--index", "./plain-file"], ["ingest", "docs", "--no-embed", "--index", "./plain-file"]] {
      let r = try TomeBinary.run(arguments, in: dir.url)
      #expect(r.status == 1, "\(r.stderr)")
      #expect(r.stderr.contains("not an index folder") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
    // Another program's database.
    let foreign = dir.url.appendingPathComponent("other/tome.sqlite")
    try FileManager.default.createDirectory(at: foreign.deletingLastPathComponent(), withIntermediateDirectories: true)
    let sqlite = Process()
    sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    sqlite.arguments = [foreign.path, "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('x');"]
    try sqlite.run()
    sqlite.waitUntilExit()
    let before = try Data(contentsOf: foreign)
    for arguments in [["search", "text", "--mode", "bm25", "--index", "other"], ["status", "--index", "other"], ["ingest", "docs", "--no-embed", "--index", "other"]] {
      let run = try TomeBinary.run(arguments.map { $0 == "other" ? dir.url.appendingPathComponent("other").path : $0 }, in: dir.url)
      #expect(run.status == 1, "\(arguments): \(run.stderr)")
      #expect(run.stderr.contains("not a Tome index"), "\(run.stderr)")
    }
    #expect(try Data(contentsOf: foreign) == before, "the foreign database was modified")
    // A folder that cannot be created.
    let proc = try TomeBinary.run(["ingest", "docs", "--no-embed", "--index", "/proc/tome-test-index"], in: dir.url)
    #expect(proc.status == 1 && proc.stderr.contains("cannot create the index folder"), "\(proc.stderr)")
    #expect(proc.stderr.split(separator: "\n").count == 1)
  }

  @Test("an index that is not writable opens read-only: search and status work, ingest says why not")
  func readOnlyIndex() throws {
    let dir = try TemporaryDirectory()
    try dir.write("docs/a.txt", "The harbour has boats.\n")
    #expect(try TomeBinary.run(["ingest", "docs", "--no-embed", "-q"], in: dir.url).status == 0)
    // Root ignores permissions, so as root the commands run as `nobody` (the index stays
    // root's); otherwise the index is made read-only.
    let asRoot = getuid() == 0
    if asRoot {
      try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.url.path)
    } else {
      for p in ["Indexes/default/tome.sqlite", "Indexes/default"] {
        try FileManager.default.setAttributes([.posixPermissions: p.hasSuffix("sqlite") ? 0o444 : 0o555], ofItemAtPath: dir.url.appendingPathComponent(p).path)
      }
    }
    defer {
      try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.url.appendingPathComponent("Indexes/default").path)
    }
    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
      let process = Process()
      if asRoot {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", TomeBinary.url.path] + arguments
      } else {
        process.executableURL = TomeBinary.url
        process.arguments = arguments
      }
      process.currentDirectoryURL = dir.url
      let out = Pipe()
      let err = Pipe()
      process.standardOutput = out
      process.standardError = err
      try process.run()
      let o = out.fileHandleForReading.readAll()
      let e = err.fileHandleForReading.readAll()
      process.waitUntilExit()
      return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
    let search = try run(["search", "harbour", "--mode", "bm25"])
    #expect(search.status == 0 && search.stdout.contains("docs/a.txt"), "\(search.stderr)")
    let status = try run(["status"])
    #expect(status.status == 0 && status.stdout.contains("1 indexed"), "\(status.stderr)")
    let ingest = try run(["ingest", "docs", "--no-embed"])
    #expect(ingest.status == 1 && ingest.stderr.contains("not writable"), "\(ingest.stderr)")
    #expect(ingest.stderr.split(separator: "\n").count == 1)
  }

  @Test("an index folder inside the ingested folder is not ingested")
  func indexInsideCollection() throws {
    let dir = try TemporaryDirectory()
    try dir.write("notes.txt", "Notes about the harbour.\n")
    #expect(try TomeBinary.run(["ingest", ".", "--no-embed", "-q"], in: dir.url).status == 0)
    try dir.write("more.txt", "More notes.\n")
    #expect(try TomeBinary.run(["ingest", ".", "--no-embed", "-q"], in: dir.url).status == 0)
    let status = try TomeBinary.run(["status", "--json"], in: dir.url)
    #expect(!status.stdout.contains("Indexes/default"), "\(status.stdout)")
    #expect(status.stdout.contains("more.txt"))
  }

  @Test("globs: invalid patterns are errors; several ** stay linear")
  func globs() throws {
    for bad in ["a[b", "[z-a].txt", "docs/", ""] { #expect(GlobPattern.problem(in: bad) != nil, "\(bad)") }
    for good in ["*.md", "docs/**", "**/*.[ch]", "[!a]*", "a]b"] { #expect(GlobPattern.problem(in: good) == nil, "\(good)") }
    let dir = try TemporaryDirectory()
    try dir.write("docs/a.txt", "x\n")
    let r = try TomeBinary.run(["ingest", "docs", "--no-embed", "--exclude", "notes[1"], in: dir.url)
    #expect(r.status == 2 && r.stderr.contains("--exclude") && r.stderr.contains("never closed"), "\(r.stderr)")

    let pattern = GlobPattern(Array(repeating: "**/a", count: 8).joined(separator: "/") + "/**/b")
    let path = Array(repeating: "a", count: 60).joined(separator: "/") + "/c"
    let start = ContinuousClock.now
    #expect(!pattern.matches(path))
    #expect(ContinuousClock.now - start < .seconds(1))
    #expect(GlobPattern("**/**/x/**/**/y").matches("p/x/q/r/y"))
    #expect(GlobPattern("a/**/b").matches("a/b") && GlobPattern("a/**/b").matches("a/x/y/b") && !GlobPattern("a/**/b").matches("a/x/c"))
  }

  @Test("command-line errors: negative numbers get the range message, one error prefix, no raw Foundation errors")
  func commandLineErrors() throws {
    let dir = try TemporaryDirectory()
    for arguments in [["search", "x", "-k", "-3"], ["ask", "x", "-k", "-1"], ["ask", "x", "--max-tokens", "-5"]] {
      let r = try TomeBinary.run(arguments, in: dir.url)
      #expect(r.status == 2, "\(arguments): \(r.stderr)")
      #expect(!r.stderr.contains("Missing value") && r.stderr.contains("must be between"), "\(r.stderr)")
      #expect(r.stderr.hasPrefix("error: "), "\(r.stderr)")
    }
    let help = try TomeBinary.run(["serve", "--help"], in: dir.url)
    #expect(help.stdout.contains("/v1/ask") && !help.stdout.contains("not yet available"), "\(help.stdout)")
    #expect(help.stdout.contains("--prompts") && help.stdout.contains("--allow-origin"))

    // A Foundation file error from a real command, as one line with the path and the reason.
    try dir.write("squad.json", #"{"data": []}"#)
    let convert = try TomeBinary.run(["bench", "convert", "squad", "squad.json", "/proc/tome-test/out"], in: dir.url)
    #expect(convert.status == 1, "\(convert.stderr)")
    #expect(convert.stderr.hasPrefix("error: cannot") && convert.stderr.contains("/proc/tome-test"), "\(convert.stderr)")
    #expect(!convert.stderr.contains("Domain=") && convert.stderr.split(separator: "\n").count == 1, "\(convert.stderr)")

    let error = NSError(
      domain: NSCocoaErrorDomain, code: CocoaError.fileWriteUnknown.rawValue,
      userInfo: [NSFilePathErrorKey: "/x/y.json", NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOENT))])
    #expect(Terminal.fileErrorText(error) == "cannot write /x/y.json: No such file or directory")
    #expect(Terminal.fileErrorText(CLIError("plain")) == nil)
    #expect(Terminal.sanitized("a\u{1B}[2Jb\nc\u{9B}d\u{202E}e") == #"a\e[2Jb\nc\u{9b}d\u{202e}e"#)
    #expect(Terminal.sanitized("tab\tok\nline", keepNewlines: true) == "tab\tok\nline")
  }
}
