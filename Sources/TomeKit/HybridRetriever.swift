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
  /// Weighted reciprocal-rank fusion of the two (the default).
  case hybrid
}

/// Retrieves chunks by BM25, by dense vectors, or both fused by weighted reciprocal rank.
///
/// Hybrid search fuses a third list unless the settings weigh it 0: BM25 over the chunks'
/// headers alone, so a page whose title the question names ("the cash flow statement") is
/// found though its figures say nothing of it.
///
/// Dense search goes through a `VectorIndex`: exact (`FlatIndex`, one sgemv over all vectors,
/// loaded from SQLite) unless the index has a graph (`tome index build`, or ingest past
/// `GraphStore.autoThreshold` vectors), which is memory-mapped and verified instead. Each side
/// contributes its best `candidates` hits to the fusion.
/// When the query names documents (file names, titles: see `DocumentRanker`) and the
/// settings allow it, both sides search only those documents; a query that names none
/// searches the whole collection. The fusion weights and the focus come from the
/// `FusionSettings` stored with the index.
public struct HybridRetriever: Sendable {
  public let collection: Collection
  let embedder: (any TextEmbedder)?
  let index: (any VectorIndex)?
  /// Which index answers dense search.
  public let indexKind: VectorIndexKind
  /// Fusion weights and document focus; read from the index unless given.
  public var settings: FusionSettings
  /// Hits taken from each side before fusion.
  public var candidates: Int
  let documents: DocumentRanker
  /// The chunks of every document, for dense search within named documents (built once:
  /// scanning every chunk per focused query cost a pass over the whole collection).
  let documentChunks: [DocumentID: [Int64]]
  /// Words in half the chunks or more, which BM25 weighs at nothing: left out of its queries
  /// (recorded by ingest; an index without the record searches every word).
  let commonTerms: Set<String>
  /// Words in half the chunks' headers or more: left out of the header list's query.
  let commonHeaderTerms: Set<String>

  /// Builds a retriever; with an embedder, loads the index's vectors for dense search.
  ///
  /// - Parameters:
  ///   - settings: fusion settings; nil reads those stored with the index.
  ///   - indexKind: the dense index; nil picks the graph kind recorded by `tome index build`
  ///     (or by ingest past the threshold), else exact search.
  ///   - log: notes on the graph (rebuilt, caught up), for stderr.
  /// - Throws: `RetrievalError.encoderMismatch` when the index's vectors come from another
  ///   encoder than `embedder`.
  public init(
    collection: Collection, embedder: (any TextEmbedder)?, settings: FusionSettings? = nil, candidates: Int = 50,
    indexKind: VectorIndexKind? = nil, log: (String) -> Void = { _ in }
  ) throws {
    self.collection = collection
    self.embedder = embedder
    self.settings = try settings ?? collection.fusionSettings()
    self.candidates = candidates
    func words(_ key: MetaKey) throws -> Set<String> {
      Set((try collection.store.meta(key) ?? "").split(separator: " ").map(String.init))
    }
    commonTerms = try words(.commonTerms)
    commonHeaderTerms = try words(.commonHeaderTerms)
    let titles = try collection.store.documentTitles()
    documents = DocumentRanker(
      entries: try collection.store.documents().compactMap { record in
        record.id.map { DocumentRanker.Entry(id: $0, path: record.path, title: titles[$0]) }
      })
    guard let embedder else {
      index = nil
      documentChunks = [:]
      self.indexKind = .exact
      return
    }
    if let stored = try collection.store.meta(.encoder), stored != embedder.identifier {
      throw RetrievalError.encoderMismatch(index: stored, encoder: embedder.identifier)
    }
    documentChunks = Dictionary(grouping: try collection.store.chunkDocuments(), by: \.value).mapValues { $0.map(\.key.rawValue) }
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

  /// The documents `query` names, as the settings focus them; nil when it names none or focus
  /// is off.
  public func focusedDocuments(_ query: String) -> Set<DocumentID>? {
    settings.documentFocus.flatMap { documents.focus(query, ratio: $0) }
  }

  /// A retriever for `mode`, loading the encoder from `models` only when the mode ranks by
  /// vectors and the collection has them. A collection never embedded (`--no-embed`) gets no
  /// encoder: hybrid search then ranks by BM25 alone (`RetrievalResult.fellBackToBM25`) and
  /// dense search throws `RetrievalError.noVectors`, so that rule lives in `search` only.
  ///
  /// - Throws: the encoder's load errors; `RetrievalError.encoderMismatch`.
  public static func open(
    collection: Collection, mode: RetrievalMode, models: ModelDirectory, indexKind: VectorIndexKind? = nil,
    log: (String) -> Void = { _ in }
  ) throws -> HybridRetriever {
    let embedded = try collection.store.meta(.encoder) != nil
    let encoder = mode == .bm25 || !embedded ? nil : try models.loadEncoder()
    return try HybridRetriever(collection: collection, embedder: encoder?.embedder, indexKind: indexKind, log: log)
  }

  /// The encoder's vector length (nil without an encoder).
  public var dimension: Int? { embedder?.dimension }

  /// Number of chunks with a vector.
  public var vectorCount: Int { index?.count ?? 0 }

  /// The best `k` chunks for `query` (only from `documents` when given).
  ///
  /// - Throws: `RetrievalError.noVectors` for dense search on an index without vectors (hybrid
  ///   then falls back to BM25 only, and says so through `fellBackToBM25`).
  public func search(_ query: String, k: Int, mode: RetrievalMode, documents restriction: Set<DocumentID>? = nil) throws -> RetrievalResult {
    precondition(k > 0, "k must be positive")
    let depth = max(k, candidates)
    // Scopes: the named documents (weight 1) and the whole collection (weight
    // `unfocusedWeight` when documents are named, so a wrong guess cannot hide the answer;
    // 1 when none are). A caller's restriction is the only scope.
    var scopes: [(documents: Set<DocumentID>?, weight: Double)]
    if let restriction {
      scopes = [(restriction, 1)]
    } else {
      let focus = focusedDocuments(query)
      scopes = focus.map { [($0, 1)] } ?? []
      let wide = focus == nil ? 1 : settings.unfocusedWeight
      if wide > 0 { scopes.append((nil, wide)) }
    }
    let hasVectors = embedder != nil && index?.isEmpty == false
    var textHits: [TextSearchHit] = []
    var lists: [[Neighbor]] = []
    var weights: [Double] = []
    if mode == .bm25 || (mode == .hybrid && (settings.bm25Weight > 0 || !hasVectors)) {
      let limit = mode == .bm25 && scopes.count == 1 ? k : depth
      let weight = mode == .hybrid && hasVectors ? settings.bm25Weight : 1
      for (index, scope) in scopes.enumerated() {
        // Excerpts come from the first scope (the named documents, or the only one); cutting
        // them for the whole collection beside it cost as much as its search.
        if index == 0 {
          let hits = try collection.store.searchText(query, limit: limit, documents: scope.documents, leavingOut: commonTerms)
          textHits = hits
          lists.append(hits.map { Neighbor(id: $0.chunk.id.rawValue, score: Float($0.score)) })
        } else {
          lists.append(Self.neighbors(try collection.store.rankText(query, limit: limit, documents: scope.documents, leavingOut: commonTerms)))
        }
        weights.append(scope.weight * weight)
      }
    }
    // Headers of the first scope only: beside named documents, the whole collection's headers
    // mostly re-find those documents by their title, for a second search's time.
    if mode == .hybrid && settings.headerWeight > 0, let scope = scopes.first {
      lists.append(
        Self.neighbors(
          try collection.store.rankText(query, limit: depth, documents: scope.documents, field: .header, leavingOut: commonHeaderTerms)))
      weights.append(scope.weight * settings.headerWeight)
    }
    var fellBack = false
    if mode != .bm25 {
      if let index, let embedder, !index.isEmpty {
        let vector = try embedder.embed(query: query)
        let wanted = mode == .dense && scopes.count == 1 ? k : depth
        let weight = mode == .hybrid ? settings.denseWeight : 1
        for scope in scopes {
          if let documents = scope.documents {
            // The named documents' chunks are known, so a graph index can score them exactly.
            let allowed = documents.flatMap { documentChunks[$0] ?? [] }
            lists.append(index.search(query: vector, k: wanted, filter: VectorFilter(allowing: allowed)))
          } else {
            lists.append(index.search(query: vector, k: wanted))
          }
          weights.append(scope.weight * weight)
        }
      } else if mode == .dense {
        throw RetrievalError.noVectors(collection.location.directory.path)
      } else {
        fellBack = true
      }
    }
    // One list keeps its own scores (BM25 or cosine); several are fused by weighted RRF.
    let ranked =
      lists.count == 1
      ? Array(lists[0].prefix(k)) : ReciprocalRankFusion(k: settings.rankConstant).fuse(lists, weights: weights, limit: k)
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

  /// BM25 ranks as a list to fuse.
  static func neighbors(_ ranked: [(chunk: ChunkID, score: Double)]) -> [Neighbor] {
    ranked.map { Neighbor(id: $0.chunk.rawValue, score: Float($0.score)) }
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
