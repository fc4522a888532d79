public import TomeCore
package import TomeStore

/// An index folder opened for use: the entry point a Swift program (and the CLI) starts from.
///
/// `Collection` owns the store connection and offers the read side (search, status); writing
/// goes through `sync` (or `IngestPipeline` and `EmbeddingPipeline` one at a time). It holds no
/// model or encoder: those are passed to the coordinators that need them, so opening a
/// collection stays cheap. The store is `package`: Tome's own targets reach the tables, a
/// library user goes through TomeKit's API, which is all the CLI uses.
public struct Collection: Sendable {
  public let location: IndexLocation
  package let store: IndexStore

  /// Opens the index at `location`; `create` makes a new one when none exists.
  /// - Throws: `StoreError` (no index there, not an index, newer schema).
  public init(location: IndexLocation, create: Bool) throws {
    self.location = location
    self.store = try IndexStore(directory: location.directory, create: create)
  }

  /// BM25 search; see `IndexStore.searchText`.
  public func search(_ query: String, limit: Int) throws -> [SearchResult] {
    try store.searchText(query, limit: limit).enumerated().map { index, hit in
      SearchResult(rank: index + 1, chunkID: hit.chunk.id, chunk: hit.chunk.chunk, score: hit.score, excerpt: hit.excerpt)
    }
  }

  /// Every document with its state, and totals.
  public func status() throws -> CollectionStatus {
    CollectionStatus(documents: try store.documents(), totals: try store.totals(), roots: try store.roots())
  }

  /// Totals over the whole index (cheaper than `status()`: no document list).
  public func totals() throws -> IndexTotals {
    try store.totals()
  }

  /// How far embedding has got: vectors stored, chunks still without one, and the encoder.
  public func vectors() throws -> VectorStatus {
    VectorStatus(count: try store.vectorCount(), pending: try store.pendingVectorCount(), encoder: try store.meta(.encoder))
  }
}

/// The vectors of an index.
public struct VectorStatus: Sendable, Hashable {
  /// Chunks with a vector.
  public var count: Int
  /// Chunks without one (an interrupted ingest, or one run with `--no-embed`).
  public var pending: Int
  /// The encoder the vectors come from; nil for an index that was never embedded (BM25 only).
  public var encoder: String?
}

/// One ranked search result.
public struct SearchResult: Sendable, Hashable {
  /// 1-based rank.
  public var rank: Int
  public var chunkID: ChunkID
  public var chunk: Chunk
  /// Higher is better; comparable only within one result list.
  public var score: Double
  /// Matched text with terms between `highlightStart` and `highlightEnd`.
  public var excerpt: String

  /// Marks the start of a matched term in `excerpt` (a control character never found in text).
  public static let highlightStart: Character = TextSearchHit.highlightStart
  /// Marks the end of a matched term in `excerpt`.
  public static let highlightEnd: Character = TextSearchHit.highlightEnd
}

/// What `tome status` shows.
public struct CollectionStatus: Sendable {
  public var documents: [DocumentRecord]
  public var totals: IndexTotals
  public var roots: [String]
}
