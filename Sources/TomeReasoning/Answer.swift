public import TomeCore

/// Prompt and answer sizes, in the model's tokens, summed over the answer's model calls.
public struct TokenCounts: Sendable, Hashable, Codable {
  public var prompt: Int
  public var answer: Int
  /// Model calls made (generations and scored choices).
  public var calls: Int

  public init(prompt: Int, answer: Int, calls: Int = 0) {
    self.prompt = prompt
    self.answer = answer
    self.calls = calls
  }
}

/// Where the time went, in seconds.
public struct AnswerTimings: Sendable, Hashable, Codable {
  public var retrieval: Double
  /// Evidence selection (sentence embedding and ranking).
  public var evidence: Double
  /// From the start of the model call to its first piece of text (nil when the model was not called).
  public var timeToFirstToken: Double?
  /// From the start of retrieval to the end of the answer.
  public var total: Double
}

/// A finished answer with everything needed to render or check it.
///
/// Not `Codable` on purpose: its JSON is `AnswerRecord`, the one shape every output uses.
public struct Answer: Sendable, Hashable {
  public var question: String
  /// The strategy that produced it (`rag`, `coc`, …; `auto` answers carry the route taken).
  public var strategy: String
  /// The model's identifier (nil when no model was called).
  public var model: String?
  public var evidence: [Evidence]
  public var text: String
  /// The model's own `[n]` markers, resolved and checked.
  public var citations: [Citation]
  /// Sentences of the answer without a marker, attributed to the passage lines that support
  /// them (kept apart from the model's own markers).
  public var attributions: [Attribution]
  /// Sentences of the answer that no passage line supports.
  public var unsupportedSentences: [String]
  public var quotes: [QuoteCheck]
  /// The answer's content is not found in the sources (`SupportCheck`).
  public var unsupported: Bool
  /// Content words of the answer found in no source.
  public var unsupportedWords: [String]
  /// True when the answer is "not found in the collection" (by the model or before calling it).
  public var notFound: Bool
  /// Passages shown to the model, by prompt number (1-based, index + 1).
  public var passages: [Passage]
  /// Retrieved passages left out for lack of room, best first.
  public var dropped: [Passage]
  public var tokens: TokenCounts
  public var timings: AnswerTimings
  /// What the strategy did, step by step.
  public var trace: [TraceStep]

  /// Every distinct `path:lines` the answer cites: its verified markers, then its attributions.
  public var citedSpans: [SourceSpan] {
    var out: [SourceSpan] = []
    for c in citations where c.verified {
      if let path = c.path, let first = c.firstLine, let last = c.lastLine {
        out.append(SourceSpan(path: path, firstLine: first, lastLine: last, page: c.page, byteRange: 0..<0))
      }
    }
    for a in attributions {
      out.append(SourceSpan(path: a.path, firstLine: a.firstLine, lastLine: a.lastLine, page: a.page, byteRange: 0..<0))
    }
    var seen = Set<String>()
    return out.filter { seen.insert($0.citation).inserted }
  }
}

