/// A piece of a document sized for the encoder and the model, with the span it came from.
public struct Chunk: Sendable, Hashable, Codable {
  /// Position of the chunk within its document, from 0.
  public var ordinal: Int
  /// The chunk's text, normalised (line endings are `\n`; invalid UTF-8 replaced by U+FFFD).
  public var text: String
  /// Where the text sits in the original file.
  public var span: SourceSpan
  /// Tokens counted by the `TokenCounter` the chunker used.
  public var tokenCount: Int
  /// The heading path the chunk sits under ("Install > Linux"), when the format has headings.
  public var section: String?

  public init(ordinal: Int, text: String, span: SourceSpan, tokenCount: Int, section: String? = nil) {
    self.ordinal = ordinal
    self.text = text
    self.span = span
    self.tokenCount = tokenCount
    self.section = section
  }
}
