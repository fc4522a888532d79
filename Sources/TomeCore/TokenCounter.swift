/// Counts model tokens in text. Chunk budgets are measured through this seam so that the
/// encoder's own WordPiece tokenizer can replace the interim estimate without touching the chunker.
public protocol TokenCounter: Sendable {
  /// A stable name recorded in the index's `meta` table; a different counter means different chunks.
  var identifier: String { get }
  /// The number of tokens `text` would become (without special tokens).
  func tokenCount(_ text: Substring) -> Int
}

extension TokenCounter {
  public func tokenCount(_ text: String) -> Int { tokenCount(text[...]) }
}
