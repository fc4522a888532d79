public import TomeCore

/// A document of the collection as a strategy sees it.
public struct DocumentInfo: Sendable, Hashable {
  public var id: DocumentID
  public var path: String
  /// The document's title when ingest found one (first heading, PDF title), else nil.
  public var title: String?
  public var chunkCount: Int
  /// Tokens of its chunks (the chunker's counter; overlaps counted twice).
  public var tokens: Int

  public init(id: DocumentID, path: String, title: String?, chunkCount: Int, tokens: Int) {
    self.id = id
    self.path = path
    self.title = title
    self.chunkCount = chunkCount
    self.tokens = tokens
  }
}

/// What a strategy may read of the collection while it answers.
///
/// A reader may be scoped to some documents (`ask --document`): then every method sees only
/// those, so each strategy honours the scope without knowing of it.
///
/// Why a reader and not a passage list: multi-hop strategies search again with what they
/// learned (a clarification, a bridge entity), read a hit's neighbours, or walk a whole
/// document; a list fixed before the strategy starts cannot serve them. TomeKit implements it
/// over the index (`CollectionReader`); tests may implement it over an array.
public protocol CorpusReader: Sendable {
  /// The best `k` chunks for `query` as passages (no merging), best first, optionally only
  /// from `documents`.
  func search(_ query: String, k: Int, documents: Set<DocumentID>?) throws -> [Passage]
  /// `rag`'s passages for `question`: the best hits, neighbours merged, each grown by its
  /// same-section neighbours while `budget` tokens allow (`cost` prices a passage at a prompt
  /// number). Best first. With `rerank`, the first `rerank.depth` hits are put in its order
  /// first and the reader's usual number of them kept.
  func passages(
    for question: String, budget: Int, rerank: HitReranking?, cost: (Passage, Int) throws -> Int
  ) throws -> [Passage]
  /// Every chunk of `document` in order.
  func chunks(of document: DocumentID) throws -> [Passage]
  /// The chunks within `radius` ordinals of `chunk` in its document, in order (itself included).
  func neighbours(of chunk: ChunkID, radius: Int) throws -> [Passage]
  /// Every document, in path order.
  func documents() throws -> [DocumentInfo]
  /// The encoder's vectors of `chunks` (unit length), for those that have one.
  func vectors(of chunks: [ChunkID]) throws -> [ChunkID: [Float]]
}

/// A second ordering of the first search hits (the model as a re-ranker, `PassageReranker`).
public struct HitReranking {
  /// Hits handed to `order`.
  public var depth: Int
  /// The indices of the hits, best first.
  public var order: ([Passage]) throws -> [Int]

  public init(depth: Int, order: @escaping ([Passage]) throws -> [Int]) {
    self.depth = depth
    self.order = order
  }
}

extension CorpusReader {
  /// `passages(for:budget:rerank:cost:)` in the search's own order.
  public func passages(for question: String, budget: Int, cost: (Passage, Int) throws -> Int) throws -> [Passage] {
    try passages(for: question, budget: budget, rerank: nil, cost: cost)
  }

  /// Metadata of the documents behind `passages`, in order of first appearance.
  public func documents(of passages: [Passage]) throws -> [DocumentInfo] {
    let wanted = passages.compactMap(\.document)
    let byID = Dictionary(try documents().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    var seen = Set<DocumentID>()
    return wanted.compactMap { seen.insert($0).inserted ? byID[$0] : nil }
  }
}
