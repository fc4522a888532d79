import Foundation
import Testing
import TomeCore
import TomeKit
import TomeStore
import TomeTestSupport

/// Ingest and BM25 benchmark on a real corpus; not a timed test, it prints figures.
///
///     TOME_BENCH=1 TOME_BENCH_CORPUS=/tmp/corpora/linux-docs swift test -c release --filter IngestBenchmark
///
/// The corpus comes from `../shared/data/corpora/fetch.sh DEST`. Reports parse + chunk + FTS5
/// throughput, the time of a no-change re-run, and BM25 latency p50/p95 over 100 queries made
/// from the corpus's own text (seeded).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_BENCH"] == "1"))
struct IngestBenchmark {
  @Test("ingest throughput, no-change re-run, BM25 latency")
  func ingest() throws {
    let env = ProcessInfo.processInfo.environment
    let corpus = try #require(env["TOME_BENCH_CORPUS"], "set TOME_BENCH_CORPUS to a folder of documents")
    let dir = try TemporaryDirectory("tome-bench")
    let collection = try Collection(location: IndexLocation(directory: dir.url), create: true)
    let pipeline = IngestPipeline(collection: collection)

    let first = try pipeline.run(roots: [URL(fileURLWithPath: corpus)])
    let seconds = first.elapsed.seconds
    let totals = try collection.store.totals()
    let rerun = try pipeline.run(roots: [URL(fileURLWithPath: corpus)])

    // 100 queries: the first eight words of seeded random chunks.
    var rng = SeededGenerator(seed: 42)
    let docs = try collection.store.documents().filter { $0.status == .indexed }
    var queries: [String] = []
    while queries.count < 100, !docs.isEmpty {
      let doc = docs[Int(rng.next() % UInt64(docs.count))]
      let chunks = try collection.store.chunks(of: #require(doc.id))
      guard let chunk = chunks.randomElement(using: &rng) else { continue }
      let words = chunk.chunk.text.split(whereSeparator: { $0.isWhitespace }).prefix(8)
      if words.count >= 3 { queries.append(words.joined(separator: " ")) }
    }
    var latencies: [Double] = []
    for q in queries {
      let start = ContinuousClock.now
      _ = try collection.search(q, limit: 10)
      latencies.append((ContinuousClock.now - start).seconds * 1000)
    }
    latencies.sort()
    let p50 = latencies[latencies.count / 2]
    let p95 = latencies[Int(Double(latencies.count) * 0.95)]
    print("""
      BENCH ingest corpus=\(corpus)
        files: \(first.indexed.count) indexed, \(first.skipped.count) skipped, \(first.failed.count) failed
        bytes: \(first.bytes)  chunks: \(totals.chunks)  tokens: \(totals.tokens)
        first run: \(String(format: "%.2f", seconds)) s = \(String(format: "%.2f", Double(first.bytes) / seconds / 1e6)) MB/s, \
      \(String(format: "%.0f", Double(first.chunks) / seconds)) chunks/s, \(String(format: "%.0f", Double(totals.tokens) / seconds)) tokens/s
        no-change re-run: \(String(format: "%.3f", rerun.elapsed.seconds)) s for \(rerun.unchanged) files
        BM25 top-10 over \(latencies.count) queries: p50 \(String(format: "%.2f", p50)) ms, p95 \(String(format: "%.2f", p95)) ms
      """)
    #expect(rerun.indexed.isEmpty)
  }
}
