public import TomeCore

/// A retrieved piece of text handed to a strategy: the chunk it came from, its verbatim text
/// and where that text sits in the source file.
public struct Passage: Sendable, Hashable, Codable {
  /// The retrieved chunk.
  public var id: ChunkID
  /// Neighbour chunks merged into `text` (ordinal ±1 of the same document), in file order.
  public var mergedIDs: [ChunkID]
  /// The text, verbatim from the index (line endings `\n`).
  public var text: String
  /// Where `text` sits: its first character is on `span.firstLine`, and each `\n` in `text`
  /// moves to the next line.
  public var span: SourceSpan
  /// The retriever's score (higher is better; fused scores only order, they do not measure).
  public var score: Double
  /// Heading path, when the format has headings.
  public var section: String?
  /// The document the chunk belongs to (nil for passages built outside an index).
  public var document: DocumentID?

  public init(
    id: ChunkID, text: String, span: SourceSpan, score: Double, section: String? = nil, mergedIDs: [ChunkID] = [],
    document: DocumentID? = nil
  ) {
    self.id = id
    self.document = document
    self.text = text
    self.span = span
    self.score = score
    self.section = section
    self.mergedIDs = mergedIDs
  }

  /// Every chunk whose text this passage holds.
  public var chunkIDs: [ChunkID] { [id] + mergedIDs }
}

/// Where ranked passages go in the prompt.
///
/// `.edge` is the retrieval reordering of Jin, Yoon, Han & Arık (2024), "Long-Context LLMs Meet
/// RAG": ranks 1, 3, 5, … fill the front in order and ranks 2, 4, 6, … fill the back in
/// reverse, so the best passage comes first and the second best last, right before the
/// question; the weakest sit in the middle, where models attend least. Position rule (1-based):
/// odd i goes to slot (i+1)/2, even i to slot (k+1) − i/2. k = 5 gives [1, 3, 5, 4, 2].
public enum EdgeOrdering: String, Sendable, Hashable, Codable, CaseIterable {
  /// Reordered to the edges (the default).
  case edge
  /// Plain rank order (for measuring the reordering).
  case rank

  /// `items` (best first) in prompt order.
  public func apply<T>(_ items: [T]) -> [T] {
    guard self == .edge, items.count > 2 else { return items }
    let k = items.count
    var slots = [T?](repeating: nil, count: k)
    for (index, item) in items.enumerated() {
      let i = index + 1
      let slot = i % 2 == 1 ? (i + 1) / 2 : (k + 1) - i / 2
      slots[slot - 1] = item
    }
    return slots.compactMap { $0 }
  }

  /// The 1-based ranks in prompt order for `count` items (`[1, 3, 5, 4, 2]` for 5).
  public func ranks(count: Int) -> [Int] { apply(Array(1...max(count, 1))).prefix(count).map { $0 } }
}
