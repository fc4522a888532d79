public import TomeCore

/// A sentence from the sources that best answers the question, verbatim, with its span.
public struct Evidence: Sendable, Hashable, Codable {
  /// The sentence exactly as in the source (internal line breaks kept).
  public var text: String
  public var path: String
  public var firstLine: Int
  public var lastLine: Int
  public var page: Int?
  /// Cosine similarity to the question plus the term-overlap bonus.
  public var score: Double
  /// The passage (chunk) it came from.
  public var chunkID: ChunkID

  /// `path:first-last` (with `p. N` for PDFs).
  public var citation: String {
    SourceSpan(path: path, firstLine: firstLine, lastLine: lastLine, page: page, byteRange: 0..<0).citation
  }
}

/// Picks the sentences of the retrieved passages closest in meaning to the question.
///
/// Model-agnostic: every passage is split into sentences (`SentenceSplitter`, which keeps each
/// sentence's lines), the question and the sentences are embedded with the sentence encoder,
/// and sentences are ranked by cosine similarity plus `overlapWeight` × the fraction of the
/// question's content words (stemmed) that the sentence contains.
public struct EvidenceSelector: Sendable {
  public struct Configuration: Sendable, Hashable {
    /// Most sentences returned.
    public var count: Int
    /// Weight of the term-overlap bonus (0 = cosine only).
    public var overlapWeight: Double
    /// Sentences with fewer words are skipped (headings, stray fragments).
    public var minimumWords: Int
    /// Longest sentence considered, in characters (longer "sentences" are unsplit blobs).
    public var maximumCharacters: Int

    public init(count: Int = 3, overlapWeight: Double = 0.15, minimumWords: Int = 4, maximumCharacters: Int = 600) {
      self.count = count
      self.overlapWeight = overlapWeight
      self.minimumWords = minimumWords
      self.maximumCharacters = maximumCharacters
    }
  }

  public var embedder: any TextEmbedder
  public var configuration: Configuration

  public init(embedder: any TextEmbedder, configuration: Configuration = .init()) {
    self.embedder = embedder
    self.configuration = configuration
  }

  /// Every candidate sentence of `passages`, scored, best first (ties keep passage order).
  public func rank(question: String, passages: [Passage]) throws -> [Evidence] {
    var candidates: [Evidence] = []
    var seen = Set<String>()
    for passage in passages {
      for sentence in SentenceSplitter.sentences(in: passage.text, firstLine: passage.span.firstLine) {
        guard TextAnalysis.words(sentence.text).count >= configuration.minimumWords,
          sentence.text.count <= configuration.maximumCharacters
        else { continue }
        let key = "\(passage.span.path)\u{0}\(sentence.firstLine)\u{0}\(sentence.text)"
        guard seen.insert(key).inserted else { continue }
        candidates.append(
          Evidence(
            text: sentence.text, path: passage.span.path, firstLine: sentence.firstLine, lastLine: sentence.lastLine,
            page: passage.span.page, score: 0, chunkID: passage.id))
      }
    }
    guard !candidates.isEmpty else { return [] }
    let query = try embedder.embed(query: question)
    let matrix = try embedder.embed(passages: candidates.map(\.text))
    let questionTerms = Set(TextAnalysis.contentWords(question).map(TextAnalysis.stem))
    for index in candidates.indices {
      let row = matrix[row: index]
      let cosine = Similarity.cosine(query, row)
      var bonus = 0.0
      if configuration.overlapWeight != 0, !questionTerms.isEmpty {
        let terms = Set(TextAnalysis.contentWords(candidates[index].text).map(TextAnalysis.stem))
        bonus = configuration.overlapWeight * Double(questionTerms.intersection(terms).count) / Double(questionTerms.count)
      }
      candidates[index].score = cosine + bonus
    }
    return candidates.enumerated().sorted { a, b in
      a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset
    }.map(\.element)
  }

  /// The best `configuration.count` sentences.
  public func select(question: String, passages: [Passage]) throws -> [Evidence] {
    Array(try rank(question: question, passages: passages).prefix(configuration.count))
  }
}
