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
///
/// With `attention` set and an in-process `model`, the model's attention is a second opinion
/// (METHODS-INDEX-KV.md §9): one pass reads the candidate sentences and then the question, each
/// sentence scores its best token's sink-corrected attention from the question's positions
/// (`AttendStrategy.sinkCorrected`), and the order is the rank-sum of that and the encoder's
/// score. A sentence's `score` stays the encoder's (thresholds read it). Off by default: on
/// the SQuAD dev half it did not beat the encoder alone (the figures are in
/// `AttentionEvidence`'s documentation).
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

    /// The model's attention as a second opinion (nil: the encoder alone).
    public var attention: AttentionEvidence?

    public init(
      count: Int = 3, overlapWeight: Double = 0.15, minimumWords: Int = 4, maximumCharacters: Int = 600,
      attention: AttentionEvidence? = nil
    ) {
      self.count = count
      self.overlapWeight = overlapWeight
      self.minimumWords = minimumWords
      self.maximumCharacters = maximumCharacters
      self.attention = attention
    }
  }

  public var embedder: any TextEmbedder
  public var configuration: Configuration
  /// The answering model, read for `configuration.attention` when it is in-process.
  public var model: (any LanguageModel)?

  public init(embedder: any TextEmbedder, configuration: Configuration = .init(), model: (any LanguageModel)? = nil) {
    self.embedder = embedder
    self.configuration = configuration
    self.model = model
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
    let order = try attentionOrder(question: question, candidates: candidates)
      ?? candidates.indices.sorted { candidates[$0].score != candidates[$1].score ? candidates[$0].score > candidates[$1].score : $0 < $1 }
    return order.map { candidates[$0] }
  }

  /// The candidates' order by rank-sum of attention and encoder score, or nil when attention
  /// is off, the model does not offer it, or the sentences do not fit its window.
  private func attentionOrder(question: String, candidates: [Evidence]) throws -> [Int]? {
    guard let attention = configuration.attention, let model, let probe = try AttentionProbe.make(model),
      (0..<probe.layerCount).contains(attention.layer)
    else { return nil }
    let sentences = candidates.map {
      AttendStrategy.Sentence(
        text: $0.text, span: SourceSpan(path: $0.path, firstLine: $0.firstLine, lastLine: $0.lastLine, page: $0.page, byteRange: 0..<0),
        chunkID: $0.chunkID)
    }
    let pieces = AttendStrategy.pieces(sentences, tokenize: probe.tokens)
    guard pieces.reduce(0, { $0 + $1.count }) + probe.tokens(question).count + 64 <= model.contextLength else { return nil }
    let reading = try probe.read(pieces: pieces, question: question, layer: attention.layer)
    let tokenScores = AttendStrategy.sinkCorrected(
      questionRows: reading.questionRows, referenceRows: reading.referenceRows, context: reading.context, prior: attention.prior)
    let sentenceScores = AttendStrategy.sentenceScores(tokenScores: tokenScores, owners: reading.owners, count: candidates.count)
    let fused = AttendStrategy.rankSum(sentenceScores, candidates.map(\.score))
    return fused.indices.sorted { fused[$0] != fused[$1] ? fused[$0] > fused[$1] : $0 < $1 }
  }

  /// The best `configuration.count` sentences.
  public func select(question: String, passages: [Passage]) throws -> [Evidence] {
    Array(try rank(question: question, passages: passages).prefix(configuration.count))
  }
}

/// Settings of the attention second opinion for evidence sentences.
public struct AttentionEvidence: Sendable, Hashable {
  /// The layer read (0-based); 8 is the best of `AttendStrategy`'s sweep.
  public var layer: Int
  /// Pseudo-rows at uniform attention in each token's sink-correction reference.
  public var prior: Double

  public init(layer: Int = 8, prior: Double = 4) {
    self.layer = layer
    self.prior = prior
  }
}
