import Foundation
public import TomeCore
import TomeIndex
import TomeStore

/// How `HybridRetriever` ranks chunks.
public enum RetrievalMode: String, Sendable, CaseIterable, Codable {
  /// SQLite FTS5 BM25 over chunk words.
  case bm25
  /// Exact cosine similarity of encoder vectors.
  case dense
  /// Reciprocal-rank fusion of the two (the default).
  case hybrid
}

/// Retrieves chunks by BM25, by dense vectors, or both fused by reciprocal rank.
///
/// Dense search goes through a `VectorIndex`: exact (`FlatIndex`, one sgemv over all vectors,
/// loaded from SQLite) unless the index has a graph (`tome index build`, or ingest past
/// `GraphStore.autoThreshold` vectors), which is memory-mapped and verified instead. Each side
/// contributes its best `candidates` hits to the fusion.
public struct HybridRetriever: Sendable {
  public let collection: Collection
  let embedder: (any TextEmbedder)?
  let index: (any VectorIndex)?
  /// Which index answers dense search.
  public let indexKind: VectorIndexKind
  var fusion: ReciprocalRankFusion
  /// Hits taken from each side before fusion.
  public var candidates: Int

  /// Builds a retriever; with an embedder, opens the dense index.
  ///
  /// - Parameters:
  ///   - indexKind: the dense index; nil picks the graph kind recorded by `tome index build`
  ///     (or by ingest past the threshold), else exact search.
  ///   - log: notes on the graph (rebuilt, caught up), for stderr.
  /// - Throws: `RetrievalError.encoderMismatch` when the index's vectors come from another
  ///   encoder than `embedder`.
  public init(
    collection: Collection, embedder: (any TextEmbedder)?, fusionK: Double = 60, candidates: Int = 50,
    indexKind: VectorIndexKind? = nil, log: (String) -> Void = { _ in }
  ) throws {
    self.collection = collection
    self.embedder = embedder
    self.fusion = ReciprocalRankFusion(k: fusionK)
    self.candidates = candidates
    guard let embedder else {
      index = nil
      self.indexKind = .exact
      return
    }
    if let stored = try collection.store.meta(.encoder), stored != embedder.identifier {
      throw RetrievalError.encoderMismatch(index: stored, encoder: embedder.identifier)
    }
    let kind = try indexKind ?? GraphStore.chosenKind(collection)
    self.indexKind = kind
    if let graphKind = kind.graphKind, try collection.store.meta(.encoder) != nil {
      index = try GraphStore(collection: collection).load(graphKind, embedder: embedder, log: log).graph
      return
    }
    let (ids, matrix) = try collection.store.allVectors(dimension: embedder.dimension)
    var flat = FlatIndex(dimension: embedder.dimension)
    if !ids.isEmpty { flat.add(ids: ids.map(\.rawValue), vectors: matrix) }
    index = flat
  }

  /// Number of chunks with a vector.
  public var vectorCount: Int { index?.count ?? 0 }

  /// The best `k` chunks for `query`.
  ///
  /// - Throws: `RetrievalError.noVectors` for dense search on an index without vectors (hybrid
  ///   then falls back to BM25 only, and says so through `fellBackToBM25`).
  public func search(_ query: String, k: Int, mode: RetrievalMode) throws -> RetrievalResult {
    precondition(k > 0, "k must be positive")
    let depth = max(k, candidates)
    var textHits: [TextSearchHit] = []
    if mode != .dense { textHits = try collection.store.searchText(query, limit: mode == .bm25 ? k : depth) }
    var dense: [Neighbor] = []
    var fellBack = false
    if mode != .bm25 {
      if let index, let embedder, !index.isEmpty {
        dense = index.search(query: try embedder.embed(query: query), k: mode == .dense ? k : depth)
      } else if mode == .dense {
        throw RetrievalError.noVectors(collection.location.directory.path)
      } else {
        fellBack = true
      }
    }
    let ranked: [Neighbor]
    switch mode {
    case .bm25: ranked = textHits.map { Neighbor(id: $0.chunk.id.rawValue, score: Float($0.score)) }
    case .dense: ranked = dense
    case .hybrid:
      ranked = fellBack
        ? textHits.prefix(k).map { Neighbor(id: $0.chunk.id.rawValue, score: Float($0.score)) }
        : fusion.fuse([textHits.map { Neighbor(id: $0.chunk.id.rawValue, score: Float($0.score)) }, dense], limit: k)
    }
    let excerpts = Dictionary(textHits.map { ($0.chunk.id, $0.excerpt) }, uniquingKeysWith: { a, _ in a })
    let chunks = try collection.store.chunks(ids: ranked.map { ChunkID($0.id) })
    let byID = Dictionary(chunks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    let results = ranked.enumerated().compactMap { index, hit -> SearchResult? in
      guard let stored = byID[ChunkID(hit.id)] else { return nil }
      let excerpt = excerpts[stored.id] ?? Self.leadingExcerpt(stored.chunk.text)
      return SearchResult(rank: index + 1, chunkID: stored.id, chunk: stored.chunk, score: Double(hit.score), excerpt: excerpt)
    }
    return RetrievalResult(results: results, mode: mode, fellBackToBM25: fellBack)
  }

  /// The first 40 words of a chunk, for hits that BM25 did not excerpt.
  static func leadingExcerpt(_ text: String) -> String {
    let words = text.split(whereSeparator: { $0.isWhitespace })
    return words.prefix(40).joined(separator: " ") + (words.count > 40 ? "…" : "")
  }
}

/// Ranked results and how they were obtained.
public struct RetrievalResult: Sendable {
  public var results: [SearchResult]
  public var mode: RetrievalMode
  /// True when hybrid search had no vectors and ranked by BM25 alone.
  public var fellBackToBM25: Bool
}

/// Why retrieval could not run.
public enum RetrievalError: Error, CustomStringConvertible, Sendable {
  case encoderMismatch(index: String, encoder: String)
  case noVectors(String)

  public var description: String {
    switch self {
    case .encoderMismatch(let index, let encoder):
      return "the index holds vectors of \(index), not \(encoder); run `tome ingest` to re-embed"
    case .noVectors(let path):
      return "\(path): the index has no vectors (ingested with --no-embed?); run `tome ingest` to embed, or use --mode bm25"
    }
  }
}
