public import TomeCore

/// Prompt and answer sizes, in the model's tokens.
public struct TokenCounts: Sendable, Hashable, Codable {
  public var prompt: Int
  public var answer: Int
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
public struct Answer: Sendable, Hashable, Codable {
  public var question: String
  /// The strategy that produced it (`rag`).
  public var strategy: String
  /// The model's identifier (nil when no model was called).
  public var model: String?
  public var evidence: [Evidence]
  public var text: String
  public var citations: [Citation]
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
}

/// What a strategy reports while it works, so a caller can show progress and stream text.
public enum AnswerEvent: Sendable {
  /// The passages the model will see (prompt order, numbered from 1) and those dropped.
  case passages(used: [Passage], dropped: [Passage])
  /// The evidence sentences, before the model is called.
  case evidence([Evidence])
  /// A piece of the answer's text.
  case text(String)
  /// The finished answer (always the last event).
  case finished(Answer)
}

/// What a strategy needs besides the question and the passages.
public struct AnsweringContext: Sendable {
  public var model: any LanguageModel
  public var embedder: any TextEmbedder
  public var prompts: PromptLibrary
  public var parameters: GenerationParameters
  /// Seconds already spent retrieving (reported in the timings).
  public var retrievalSeconds: Double
  /// When the whole request started (for the total time).
  public var started: ContinuousClock.Instant

  public init(
    model: any LanguageModel, embedder: any TextEmbedder, prompts: PromptLibrary,
    parameters: GenerationParameters = .greedy(maxTokens: 256), retrievalSeconds: Double = 0,
    started: ContinuousClock.Instant = .now
  ) {
    self.model = model
    self.embedder = embedder
    self.prompts = prompts
    self.parameters = parameters
    self.retrievalSeconds = retrievalSeconds
    self.started = started
  }
}

/// A way of answering a question from retrieved passages (single-pass RAG, map-reduce, …).
public protocol AnsweringStrategy: Sendable {
  /// The name `--strategy` uses.
  var name: String { get }
  /// Passage tokens available for `question`, so a retriever can expand neighbours within it.
  func passageBudget(question: String, context: AnsweringContext) throws -> Int
  /// Tokens a passage costs in this strategy's prompt.
  func passageCost(_ passage: Passage, number: Int, context: AnsweringContext) throws -> Int
  /// Answers `question` from `passages` (best first), streaming events; the last is `.finished`.
  func answer(question: String, passages: [Passage], context: AnsweringContext) -> AsyncThrowingStream<AnswerEvent, any Error>
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
