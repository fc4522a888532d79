public import TomeCore

/// A sentence of an answer attributed to the source lines that support it.
///
/// Why: the default model almost never writes `[n]` markers (6 in 200 SQuAD answers), so
/// without attribution most answers cite nothing. These are shown and stored apart from the
/// model's own markers: they are Tome's reading of the answer, not the model's claim.
public struct Attribution: Sendable, Hashable, Codable {
  /// The answer's sentence.
  public var sentence: String
  public var path: String
  public var firstLine: Int
  public var lastLine: Int
  public var page: Int?
  public var chunkID: ChunkID
  /// Fraction of the sentence's content words (stemmed) found in the source sentence.
  public var overlap: Double
  /// Encoder cosine between the answer sentence and the source sentence.
  public var similarity: Double

  /// `path:first-last` (with `p. N` for pages).
  public var citation: String {
    SourceSpan(path: path, firstLine: firstLine, lastLine: lastLine, page: page, byteRange: 0..<0).citation
  }
}

/// Attributes each unmarked answer sentence to the passage sentence that supports it best.
///
/// Candidates are the passages' sentences, preselected by content-word overlap (the best
/// `candidates`), then ranked by overlap + encoder cosine. A sentence is attributed when the
/// best source holds at least `minimumOverlap` of its content words and is at least loosely
/// similar (`minimumSimilarityWithOverlap`), or when it is close in meaning on its own
/// (`minimumSimilarity`, for paraphrases); otherwise it is flagged as unsupported.
public struct Attributor: Sendable {
  public struct Configuration: Sendable, Hashable {
    public var minimumOverlap: Double
    public var minimumSimilarityWithOverlap: Double
    public var minimumSimilarity: Double
    public var candidates: Int

    public init(minimumOverlap: Double = 0.5, minimumSimilarityWithOverlap: Double = 0.25, minimumSimilarity: Double = 0.65, candidates: Int = 8) {
      self.minimumOverlap = minimumOverlap
      self.minimumSimilarityWithOverlap = minimumSimilarityWithOverlap
      self.minimumSimilarity = minimumSimilarity
      self.candidates = candidates
    }
  }

  public var embedder: any TextEmbedder
  public var configuration: Configuration

  public init(embedder: any TextEmbedder, configuration: Configuration = .init()) {
    self.embedder = embedder
    self.configuration = configuration
  }

  public struct Result: Sendable, Hashable {
    public var attributions: [Attribution]
    public var unsupported: [String]
  }

  /// Attributes the sentences of `answer` that carry no `[n]` marker to `passages`' lines.
  public func attribute(answer: String, passages: [Passage]) throws -> Result {
    struct Source {
      var sentence: SourceSentence
      var passage: Passage
      var stems: Set<String>
    }
    var sources: [Source] = []
    for passage in passages {
      for sentence in SentenceSplitter.sentences(in: passage.text, firstLine: passage.span.firstLine) where sentence.text.count <= 1200 {
        sources.append(Source(sentence: sentence, passage: passage, stems: Set(TextAnalysis.words(sentence.text).map(TextAnalysis.stem))))
      }
    }
    var result = Result(attributions: [], unsupported: [])
    for sentence in SentenceSplitter.sentences(in: answer, firstLine: 1) {
      let text = sentence.text
      guard CitationChecker.markers(in: text).isEmpty,
        !TextAnalysis.normalised(text).contains(RAGStrategy.notFoundPhrase)
      else { continue }
      let words = Set(TextAnalysis.contentWords(text).map(TextAnalysis.stem))
      guard !words.isEmpty else { continue }
      guard !sources.isEmpty else {
        result.unsupported.append(text)
        continue
      }
      let overlaps = sources.map { Double($0.stems.intersection(words).count) / Double(words.count) }
      let shortlist = sources.indices.sorted { overlaps[$0] != overlaps[$1] ? overlaps[$0] > overlaps[$1] : $0 < $1 }
        .prefix(configuration.candidates)
      let matrix = try embedder.embed(passages: [text] + shortlist.map { sources[$0].sentence.text })
      let query = matrix[row: 0]
      var best: (index: Int, similarity: Double, score: Double)?
      for (row, index) in shortlist.enumerated() {
        let cosine = Similarity.cosine(query, matrix[row: row + 1])
        let score = cosine + overlaps[index]
        if best == nil || score > best!.score { best = (index, cosine, score) }
      }
      guard let best else { continue }
      let overlap = overlaps[best.index]
      let supported =
        (overlap >= configuration.minimumOverlap && best.similarity >= configuration.minimumSimilarityWithOverlap)
        || best.similarity >= configuration.minimumSimilarity
      guard supported else {
        result.unsupported.append(text)
        continue
      }
      let source = sources[best.index]
      result.attributions.append(
        Attribution(
          sentence: text, path: source.passage.span.path, firstLine: source.sentence.firstLine,
          lastLine: source.sentence.lastLine, page: source.passage.span.page, chunkID: source.passage.id, overlap: overlap,
          similarity: best.similarity))
    }
    return result
  }
}
