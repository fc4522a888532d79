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
  /// A short line of context that is embedded and BM25-indexed with the text but is not part
  /// of it: the document's title, the section and the page ("3M 2018 10K | p. 60"). A passage
  /// deep in a long document ("Purchases of property, plant and equipment (1,577)") rarely
  /// says which document, year or statement it belongs to; the header does.
  public var header: String?

  public init(ordinal: Int, text: String, span: SourceSpan, tokenCount: Int, section: String? = nil, header: String? = nil) {
    self.ordinal = ordinal
    self.text = text
    self.span = span
    self.tokenCount = tokenCount
    self.section = section
    self.header = header
  }

  /// Names the rules by which ``embeddingText`` is made from a chunk's text and header. Change
  /// it with them: an index keeps a re-chunked chunk's vector when its text and header are
  /// unchanged, and only while the rules that made the vector are these.
  public static let embeddingRules = "header+blank+body tables=labels"

  /// What the encoder embeds: the header, a blank line, then the text (the text alone when
  /// there is no header); of a table, only its labels (``embeddedBody``).
  public var embeddingText: String {
    guard let header, !header.isEmpty else { return embeddedBody }
    return header + "\n\n" + embeddedBody
  }

  /// The text the encoder sees: the whole text, or, when most of its lines hold no letter
  /// (a table as pdftotext writes it: labels in one column, each figure on a line of its own),
  /// only the lines that hold one.
  ///
  /// A 256-token encoder given a balance sheet reads mostly figures ("5,409", "$", "(1,577)")
  /// and places it far from a question about "inventories in the balance sheet"; its labels
  /// ("Merchandise inventories", "Total current assets") are what such a question matches.
  /// BM25 still indexes the figures. Prose, where lines without letters are rare, is embedded
  /// whole.
  public var embeddedBody: String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
    let labels = lines.filter { $0.contains(where: \.isLetter) }
    guard !labels.isEmpty, labels.count * 2 < lines.count else { return text }
    return labels.joined(separator: "\n")
  }
}
