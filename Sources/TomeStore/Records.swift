public import TomeCore

/// A stored chunk with its row id and document.
public struct StoredChunk: Sendable, Hashable {
  public var id: ChunkID
  public var documentID: DocumentID
  public var chunk: Chunk

  public init(id: ChunkID, documentID: DocumentID, chunk: Chunk) {
    self.id = id
    self.documentID = documentID
    self.chunk = chunk
  }
}

/// A BM25 hit: the chunk, its score (higher is better) and a highlighted excerpt.
public struct TextSearchHit: Sendable, Hashable {
  public var chunk: StoredChunk
  /// −bm25(), so that higher means more relevant.
  public var score: Double
  /// An excerpt of the chunk with matched terms between `TextSearchHit.highlightStart`/`End`.
  public var excerpt: String

  /// Marks the start of a matched term in `excerpt` (a control character never found in text).
  public static let highlightStart: Character = "\u{2}"
  /// Marks the end of a matched term in `excerpt`.
  public static let highlightEnd: Character = "\u{3}"
}
