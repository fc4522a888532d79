import Foundation
import Testing
import TomeCore
import TomeIngest
import TomeTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The walk-then-chunk flow the pipeline runs: nothing found is silently dropped.
@Suite(.timeLimit(.minutes(15))) struct IngestFlowTests {
  @Test("every walked file yields chunks, zero chunks (empty), or an error; odd entries are skipped with reasons")
  func nothingSilentlyDropped() throws {
    let dir = try TemporaryDirectory()
    try dir.write("docs/guide.md", "# Guide\n\nHello there.\n")
    try dir.write("docs/page.html", "<h1>Page</h1><p>Body text.</p>")
    try dir.write("docs/report.pdf", data: makePDF(pages: [["Report body."]]))
    try dir.write("docs/broken.pdf", data: Data("%PDF-1.4\nnot really".utf8))
    try dir.write("docs/empty.txt", "")
    try dir.write("docs/image.png", data: Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x00]))
    try dir.write("docs/src/main.swift", "func main() {}\n")
    try dir.write("docs/build/out.txt", "excluded by rule")
    let docs = dir.url.appendingPathComponent("docs")
    #expect(mkfifo(docs.appendingPathComponent("fifo").path, 0o644) == 0)
    try FileManager.default.createSymbolicLink(
      atPath: docs.appendingPathComponent("src/loop").path, withDestinationPath: "..")

    let walk = FileWalker(roots: [docs.path], rules: IgnoreRules(exclude: ["build"])).walk()
    let names = walk.files.map { String($0.path.dropFirst(docs.path.count + 1)) }
    #expect(names == ["broken.pdf", "empty.txt", "guide.md", "image.png", "page.html", "report.pdf", "src/main.swift"])
    #expect(Set(walk.skipped.map { String($0.path.dropFirst(docs.path.count + 1)) }) == ["fifo", "src/loop"])

    let chunker = Chunker()
    var outcomes: [String: String] = [:]
    for file in walk.files {
      let name = String(file.path.dropFirst(docs.path.count + 1))
      do {
        var stream = try chunker.chunks(of: file)
        var count = 0
        while try stream.next() != nil { count += 1 }
        #expect(stream.isExhausted && stream.sha256.count == 64 && stream.byteCount == file.size)
        outcomes[name] = "\(stream.kind.rawValue):\(count)"
      } catch {
        #expect(error.description.contains(file.path))
        outcomes[name] = "error:\(error.kind)"
      }
    }
    #expect(
      outcomes == [
        "broken.pdf": "error:toolFailed", "empty.txt": "text:0", "guide.md": "markdown:1", "image.png": "error:binary",
        "page.html": "html:1", "report.pdf": "pdf:1", "src/main.swift": "code:1",
      ])
  }
}
