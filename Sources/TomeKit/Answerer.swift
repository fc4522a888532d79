public import Foundation
public import TomeCore
public import TomeReasoning

/// Answers questions over a collection with any strategy: builds the strategy `kind` names
/// (`StrategyFactory`) and runs it over the collection's reader.
public struct Answerer: Sendable {
  public typealias Configuration = CollectionReader.Configuration

  public let reader: CollectionReader
  public let embedder: any TextEmbedder
  public let model: any LanguageModel
  public let strategies: StrategyFactory
  /// The strategy used when a call names none.
  public var defaultStrategy: StrategyKind
  public let prompts: PromptLibrary

  public init(
    retriever: HybridRetriever, embedder: any TextEmbedder, model: any LanguageModel,
    strategies: StrategyFactory = StrategyFactory(), defaultStrategy: StrategyKind = .rag, prompts: PromptLibrary,
    configuration: Configuration = .init()
  ) {
    self.reader = CollectionReader(retriever: retriever, configuration: configuration)
    self.embedder = embedder
    self.model = model
    self.strategies = strategies
    self.defaultStrategy = defaultStrategy
    self.prompts = prompts
  }

  public var retriever: HybridRetriever { reader.retriever }
  public var configuration: Configuration { reader.configuration }

  /// The context a strategy runs in for one question.
  public func context(parameters: GenerationParameters) -> AnsweringContext {
    AnsweringContext(model: model, embedder: embedder, prompts: prompts, reader: reader, parameters: parameters)
  }

  /// Answers `question` with `strategy` (default: `defaultStrategy`), streaming the strategy's
  /// events (the last is `.finished`).
  public func answer(
    _ question: String, strategy: StrategyKind? = nil, parameters: GenerationParameters = .greedy(maxTokens: 256)
  ) -> AsyncThrowingStream<AnswerEvent, any Error> {
    strategies.make(strategy ?? defaultStrategy).answer(question: question, context: context(parameters: parameters))
  }

  /// Answers `question` and returns the finished answer.
  public func answer(
    _ question: String, strategy: StrategyKind? = nil, parameters: GenerationParameters = .greedy(maxTokens: 256)
  ) async throws -> Answer {
    try await strategies.make(strategy ?? defaultStrategy).answer(question: question, context: context(parameters: parameters))
  }
}
