public import TomeCore
public import TomeStore

/// An index folder opened for use: the entry point a Swift program (and the CLI) starts from.
///
/// `Collection` owns the store connection and offers the read side (search, status); writing
/// goes through `IngestPipeline`. It holds no model or encoder: those are passed to the
/// coordinators that need them, so opening a collection stays cheap.
public struct Collection: Sendable {
  public let location: IndexLocation
  public let store: IndexStore

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
}

/// One ranked search result.
public struct SearchResult: Sendable, Hashable {
  /// 1-based rank.
  public var rank: Int
  public var chunkID: ChunkID
  public var chunk: Chunk
  /// Higher is better; comparable only within one result list.
  public var score: Double
  /// Matched text with terms between `TextSearchHit.highlightStart` and `.highlightEnd`.
  public var excerpt: String
}

/// What `tome status` shows.
public struct CollectionStatus: Sendable {
  public var documents: [DocumentRecord]
  public var totals: IndexTotals
  public var roots: [String]
}
