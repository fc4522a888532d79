import Foundation
import Testing
import TomeCore
import TomeIngest
import TomeTestSupport

/// Throughput measurements, run with `TOME_BENCH=1 swift test -c release --filter IngestBenchmarks`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOME_BENCH"] != nil))
struct IngestBenchmarks {
  private func measure(_ name: String, bytes: Int, _ body: () throws -> Int) rethrows {
    let start = ContinuousClock.now
    let chunks = try body()
    let seconds = Double((ContinuousClock.now - start).components.attoseconds) / 1e18
      + Double((ContinuousClock.now - start).components.seconds)
    let rate = Double(bytes) / 1_048_576 / max(seconds, 1e-9)
    print("bench \(name): \(bytes >> 20) MiB, \(chunks) chunks, \(String(format: "%.2f", seconds)) s, \(String(format: "%.1f", rate)) MiB/s")
  }

  @Test("chunking throughput: essays as text and Markdown, HTML")
  func throughput() throws {
    let dir = try TemporaryDirectory("tome-bench")
    let essays = SharedData.data("paul_graham_essays/essays")
    let names = try FileManager.default.contentsOfDirectory(atPath: essays.path).sorted()
    var corpus = Data()
    for name in names { corpus.append(try Data(contentsOf: essays.appendingPathComponent(name))) }
    var text = Data()
    while text.count < 64 << 20 { text.append(corpus) }
    let textURL = try dir.write("corpus.txt", data: text)
    let mdURL = try dir.write("corpus.md", data: text)
    var html = Data("<html><body>".utf8)
    let lines = String(decoding: corpus, as: UTF8.self).split(separator: "\n")
    var index = 0
    while html.count < 32 << 20 {
      let paragraph = lines[(index % lines.count)...].prefix(8).joined(separator: "\n")
      html.append(Data("<p>\(paragraph) &amp; more</p>\n<h2>Part \(index)</h2>\n".utf8))
      index += 8
    }
    let htmlURL = try dir.write("corpus.html", data: html)
    let chunker = Chunker()
    for (name, url, size) in [("text", textURL, text.count), ("markdown", mdURL, text.count), ("html", htmlURL, html.count)] {
      try measure(name, bytes: size) {
        var stream = try chunker.chunks(of: DiscoveredFile(path: url.path))
        var count = 0
        while try stream.next() != nil { count += 1 }
        return count
      }
    }
  }
}
