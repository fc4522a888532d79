public import Foundation
public import TomeCore
public import TomeKit
import TomeStore

/// Throughput and latency of the pieces a question goes through: ingest (chunking and
/// embedding), search in each retrieval mode, and the in-process model's prefill and decode.
public struct SpeedBenchmark: Sendable {
  /// Ingest of one folder into a fresh index.
  public struct Ingest: Sendable, Hashable, Codable {
    public var files: Int
    public var bytes: Int
    public var chunks: Int
    /// Encoder tokens in the chunks.
    public var tokens: Int
    public var chunkingSeconds: Double
    public var embeddingSeconds: Double
    public var seconds: Double { chunkingSeconds + embeddingSeconds }
    public var megabytesPerSecond: Double { Double(bytes) / 1e6 / max(seconds, 1e-9) }
    public var chunksPerSecond: Double { Double(chunks) / max(seconds, 1e-9) }
    public var tokensPerSecond: Double { Double(tokens) / max(seconds, 1e-9) }
    /// Embedding alone.
    public var embeddedTokensPerSecond: Double { Double(tokens) / max(embeddingSeconds, 1e-9) }
  }

  /// Latency of one retrieval mode over the query set.
  public struct Search: Sendable, Hashable, Codable {
    public var mode: RetrievalMode
    public var queries: Int
    public var k: Int
    public var p50Milliseconds: Double
    public var p95Milliseconds: Double
    public var meanMilliseconds: Double
  }

  /// Prefill and decode of the in-process model.
  public struct Model: Sendable, Hashable, Codable {
    public var model: String
    public var prefillTokens: Int
    public var prefillSeconds: Double
    public var prefillTokensPerSecond: Double { Double(prefillTokens) / max(prefillSeconds, 1e-9) }
    /// Tokens generated after the prefill (greedy; fewer than asked when the model stops).
    public var decodeTokens: Int
    public var decodeSeconds: Double
    public var decodeTokensPerSecond: Double { Double(decodeTokens) / max(decodeSeconds, 1e-9) }
  }

  /// Ingests `folder` into a fresh index at `collection` (chunking, then embedding).
  public static func ingest(folder: URL, into collection: Collection, encoder: SentenceEncoder, progress: (String) -> Void = { _ in }) throws -> Ingest {
    var chunked: IngestProgress?
    var embedding = false
    let synced = try collection.sync(paths: [folder], encoder: encoder) { event in
      switch event {
      case .ingest(let p): chunked = p
      case .embed:
        // Said once, when the embedding phase reports its first batch.
        if !embedding, let p = chunked {
          progress(String(format: "chunked %d files into %d chunks in %.1fs; embedding…", p.filesDone, p.chunksWritten, (ContinuousClock.now - p.started).seconds))
        }
        embedding = true
      }
    }
    let report = synced.ingest
    let tokens = synced.embedding?.tokens ?? 0
    let embeddingSeconds = synced.embedding?.elapsed.seconds ?? 0
    let result = Ingest(
      files: report.indexed.count + report.empty.count, bytes: report.bytes, chunks: report.chunks, tokens: tokens,
      chunkingSeconds: report.elapsed.seconds, embeddingSeconds: embeddingSeconds)
    return result
  }

  /// `count` seeded queries: eight consecutive words from a random chunk each.
  public static func queries(collection: Collection, count: Int, seed: UInt64) throws -> [String] {
    let store = collection.store
    let chunks = try store.documents().compactMap(\.id).flatMap { try store.chunks(of: $0).map(\.chunk.text) }
    guard !chunks.isEmpty else { return [] }
    var rng = SeededGenerator(seed: seed)
    var out: [String] = []
    while out.count < count {
      let words = chunks[Int.random(in: 0..<chunks.count, using: &rng)].split(whereSeparator: \.isWhitespace)
      guard words.count >= 8 else {
        if chunks.allSatisfy({ $0.split(whereSeparator: \.isWhitespace).count < 8 }) { break }
        continue
      }
      let start = Int.random(in: 0...(words.count - 8), using: &rng)
      out.append(words[start..<(start + 8)].joined(separator: " "))
    }
    return out
  }

  /// Search latency per mode (one warm-up query first).
  public static func search(retriever: HybridRetriever, queries: [String], modes: [RetrievalMode], k: Int) throws -> [Search] {
    try modes.map { mode in
      if let first = queries.first { _ = try retriever.search(first, k: k, mode: mode) }
      var times: [Double] = []
      for query in queries {
        let start = ContinuousClock.now
        _ = try retriever.search(query, k: k, mode: mode)
        times.append((ContinuousClock.now - start).seconds * 1000)
      }
      times.sort()
      func percentile(_ p: Double) -> Double {
        times.isEmpty ? 0 : times[min(times.count - 1, Int((p * Double(times.count - 1)).rounded()))]
      }
      return Search(
        mode: mode, queries: times.count, k: k, p50Milliseconds: percentile(0.5), p95Milliseconds: percentile(0.95),
        meanMilliseconds: times.reduce(0, +) / Double(max(times.count, 1)))
    }
  }

  /// Prefill of about `prefillTokens` tokens of `text`, then greedy decode of `decodeTokens`;
  /// nil when the model is not an in-process one (an endpoint's speed is the server's).
  public static func model(_ model: any LanguageModel, text: String, prefillTokens: Int, decodeTokens: Int) throws -> Model? {
    guard let paging = model as? any KVPaging else { return nil }
    return try measure(paging, text: text, prefillTokens: prefillTokens, decodeTokens: decodeTokens)
  }

  static func measure<M: KVPaging>(_ model: M, text: String, prefillTokens: Int, decodeTokens: Int) throws -> Model {
    let tokens = Array(model.tokenize(text).prefix(prefillTokens + 1))
    let sequence = model.makeSequence()
    let started = ContinuousClock.now
    try sequence.append(tokens: Array(tokens.dropLast()))
    let prefillSeconds = (ContinuousClock.now - started).seconds
    let before = sequence.positionCount
    let decodeStarted = ContinuousClock.now
    _ = try sequence.generateContinuation(
      prompt: Array(tokens.suffix(1)), parameters: GenerationParameters(maxTokens: decodeTokens), onText: { _ in true })
    let decodeSeconds = (ContinuousClock.now - decodeStarted).seconds
    // The last token was evaluated as the prompt; what follows was generated.
    let generated = max(0, sequence.positionCount - before - 1)
    return Model(
      model: model.identifier, prefillTokens: tokens.count - 1, prefillSeconds: prefillSeconds, decodeTokens: generated,
      decodeSeconds: decodeSeconds)
  }
}
