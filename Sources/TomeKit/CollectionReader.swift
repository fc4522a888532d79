public import Foundation
public import TomeCore
public import TomeReasoning
import TomeStore

/// The collection as strategies read it (`CorpusReader`): hybrid search, `rag`'s passages,
/// documents in order, neighbours.
///
/// `passages(for:)` takes the best `k` chunks (hybrid BM25 + dense). Hits are deduplicated: a
/// hit next to (ordinal ±1 of the same document) a better-ranked passage is merged into it,
/// since neighbouring chunks overlap. Then, best passage first and while the budget allows,
/// each passage grows by its neighbour chunks when they share its section.
public struct CollectionReader: CorpusReader {
  public struct Configuration: Sendable, Hashable {
    /// Chunks retrieved for `passages(for:)`.
    public var k: Int
    public var mode: RetrievalMode
    /// Grow passages by neighbouring chunks of the same section when the budget allows.
    public var expandNeighbours: Bool

    public init(k: Int = 12, mode: RetrievalMode = .hybrid, expandNeighbours: Bool = true) {
      precondition(k > 0, "k must be positive")
      self.k = k
      self.mode = mode
      self.expandNeighbours = expandNeighbours
    }
  }

  public let retriever: HybridRetriever
  public var configuration: Configuration
  /// The documents this reader sees (nil: the whole collection).
  public private(set) var scope: Set<DocumentID>?

  public init(retriever: HybridRetriever, configuration: Configuration = .init()) {
    self.retriever = retriever
    self.configuration = configuration
  }

  /// This reader limited to `documents` (nil: unchanged).
  public func scoped(to documents: Set<DocumentID>?) -> CollectionReader {
    guard let documents else { return self }
    var copy = self
    copy.scope = scope.map { $0.intersection(documents) } ?? documents
    return copy
  }

  /// `documents` within the scope.
  func within(_ documents: Set<DocumentID>?) -> Set<DocumentID>? {
    guard let scope else { return documents }
    return documents.map { $0.intersection(scope) } ?? scope
  }

  var store: IndexStore { retriever.collection.store }

  public func search(_ query: String, k: Int, documents: Set<DocumentID>?) throws -> [Passage] {
    let hits = try retriever.search(query, k: k, mode: configuration.mode, documents: within(documents)).results
    let owners = Dictionary(try store.chunks(ids: hits.map(\.chunkID)).map { ($0.id, $0.documentID) }, uniquingKeysWith: { a, _ in a })
    return hits.map {
      Passage(id: $0.chunkID, text: $0.chunk.text, span: $0.chunk.span, score: $0.score, section: $0.chunk.section, document: owners[$0.chunkID])
    }
  }

  public func chunks(of document: DocumentID) throws -> [Passage] {
    try store.chunks(of: document).map(Self.passage)
  }

  public func neighbours(of chunk: ChunkID, radius: Int) throws -> [Passage] {
    guard let stored = try store.chunks(ids: [chunk]).first else { return [] }
    let ordinal = stored.chunk.ordinal
    return try store.chunks(of: stored.documentID)
      .filter { abs($0.chunk.ordinal - ordinal) <= radius }
      .map(Self.passage)
  }

  public func documents() throws -> [DocumentInfo] {
    let titles = try store.documentTitles()
    return try store.documents().compactMap { record in
      guard let id = record.id, record.chunkCount > 0, scope?.contains(id) ?? true else { return nil }
      return DocumentInfo(id: id, path: record.path, title: titles[id], chunkCount: record.chunkCount, tokens: record.tokenCount)
    }
  }

  public func vectors(of chunks: [ChunkID]) throws -> [ChunkID: [Float]] {
    guard let dimension = retriever.dimension else { return [:] }
    return try store.vectors(ids: chunks, dimension: dimension)
  }

  static func passage(_ stored: StoredChunk) -> Passage {
    Passage(
      id: stored.id, text: stored.chunk.text, span: stored.chunk.span, score: 0, section: stored.chunk.section,
      document: stored.documentID)
  }

  public func passages(
    for question: String, budget: Int, rerank: HitReranking?, cost: (Passage, Int) throws -> Int
  ) throws -> [Passage] {
    var hits = try retriever.search(question, k: max(configuration.k, rerank?.depth ?? 0), mode: configuration.mode, documents: scope).results
    if let rerank {
      let head = Array(hits.prefix(rerank.depth))
      let order = try rerank.order(head.map { Passage(id: $0.chunkID, text: $0.chunk.text, span: $0.chunk.span, score: $0.score) })
      hits = Array((order.map { head[$0] } + hits.dropFirst(rerank.depth)).prefix(configuration.k))
    }
    guard !hits.isEmpty else { return [] }
    let store = retriever.collection.store
    let stored = try store.chunks(ids: hits.map(\.chunkID))
    let documentOf = Dictionary(stored.map { ($0.id, $0.documentID) }, uniquingKeysWith: { a, _ in a })
    var documents: [DocumentID: [StoredChunk]] = [:]
    func chunksOf(_ id: DocumentID) throws -> [StoredChunk] {
      if let cached = documents[id] { return cached }
      let all = try store.chunks(of: id)
      documents[id] = all
      return all
    }

    var groups: [PassageGroup] = []
    var used = Set<ChunkID>()
    for hit in hits where !used.contains(hit.chunkID) {
      guard let document = documentOf[hit.chunkID] else { continue }
      let chunk = StoredChunk(id: hit.chunkID, documentID: document, chunk: hit.chunk)
      // Merge into a better-ranked passage it neighbours (they overlap).
      if let g = groups.firstIndex(where: { $0.document == document && Self.adjacent($0.chunks, chunk) }),
        let merged = Self.merge(groups[g], with: chunk)
      {
        groups[g].chunks = merged.chunks
        groups[g].passage = merged.passage
        used.insert(chunk.id)
        continue
      }
      used.insert(chunk.id)
      groups.append(
        PassageGroup(
          document: document, chunks: [chunk],
          passage: Passage(
            id: chunk.id, text: chunk.chunk.text, span: chunk.chunk.span, score: hit.score, section: chunk.chunk.section,
            document: document)))
    }

    guard configuration.expandNeighbours else { return groups.map(\.passage) }
    var costs = try groups.enumerated().map { try cost($1.passage, $0 + 1) }
    var total = 0
    var fitting = 0
    for c in costs {
      if total + c > budget { break }
      total += c
      fitting += 1
    }
    // Expand only passages that fit, best first; stop when the budget is spent.
    for g in 0..<fitting {
      let all = try chunksOf(groups[g].document)
      for side in [-1, 1] {
        guard let edge = side < 0 ? groups[g].chunks.first : groups[g].chunks.last,
          let neighbour = all.first(where: { $0.chunk.ordinal == edge.chunk.ordinal + side }),
          !used.contains(neighbour.id), neighbour.chunk.section == edge.chunk.section,
          let merged = Self.merge(groups[g], with: neighbour)
        else { continue }
        let grown = try cost(merged.passage, g + 1)
        guard total - costs[g] + grown <= budget else { continue }
        total += grown - costs[g]
        costs[g] = grown
        groups[g].chunks = merged.chunks
        groups[g].passage = merged.passage
        used.insert(neighbour.id)
      }
    }
    return groups.map(\.passage)
  }

  static func adjacent(_ chunks: [StoredChunk], _ chunk: StoredChunk) -> Bool {
    guard let first = chunks.first, let last = chunks.last else { return false }
    return chunk.chunk.ordinal == first.chunk.ordinal - 1 || chunk.chunk.ordinal == last.chunk.ordinal + 1
  }

  /// `group` with `chunk` (its neighbour) joined on, or nil when their texts do not join
  /// cleanly line by line (then the caller keeps them apart).
  fileprivate static func merge(_ group: PassageGroup, with chunk: StoredChunk) -> (chunks: [StoredChunk], passage: Passage)? {
    let before = chunk.chunk.ordinal < group.chunks[0].chunk.ordinal
    let a = before ? (text: chunk.chunk.text, span: chunk.chunk.span) : (text: group.passage.text, span: group.passage.span)
    let b = before ? (text: group.passage.text, span: group.passage.span) : (text: chunk.chunk.text, span: chunk.chunk.span)
    guard let joined = joinLines(a.text, a.span, b.text, b.span) else { return nil }
    var passage = group.passage
    passage.text = joined.text
    passage.span = joined.span
    passage.mergedIDs.append(chunk.id)
    return (before ? [chunk] + group.chunks : group.chunks + [chunk], passage)
  }

  /// Joins two texts of the same file, `b` starting at or after `a`, by their line numbers.
  static func joinLines(_ a: String, _ sa: SourceSpan, _ b: String, _ sb: SourceSpan) -> (text: String, span: SourceSpan)? {
    guard sa.path == sb.path, sa.page == sb.page, sb.firstLine >= sa.firstLine, sb.lastLine >= sa.lastLine else { return nil }
    let aLines = a.split(separator: "\n", omittingEmptySubsequences: false)
    let bLines = b.split(separator: "\n", omittingEmptySubsequences: false)
    guard aLines.count == sa.lastLine - sa.firstLine + 1, bLines.count == sb.lastLine - sb.firstLine + 1 else { return nil }
    let text: String
    if sb.firstLine > sa.lastLine {
      text = a + String(repeating: "\n", count: sb.firstLine - sa.lastLine) + b
    } else {
      let overlap = sa.lastLine - sb.firstLine + 1
      guard overlap < bLines.count, Array(aLines.suffix(overlap)) == Array(bLines.prefix(overlap)) else { return nil }
      text = a + "\n" + bLines.dropFirst(overlap).joined(separator: "\n")
    }
    let span = SourceSpan(
      path: sa.path, firstLine: sa.firstLine, lastLine: sb.lastLine, page: sa.page,
      byteRange: min(sa.byteRange.lowerBound, sb.byteRange.lowerBound)..<max(sa.byteRange.upperBound, sb.byteRange.upperBound))
    return (text, span)
  }
}

/// A passage under construction: its chunks (in file order) and joined text.
private struct PassageGroup {
  var document: DocumentID
  var chunks: [StoredChunk]
  var passage: Passage
}
