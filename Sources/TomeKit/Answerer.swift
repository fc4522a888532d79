public import Foundation
public import TomeCore
public import TomeReasoning

/// Answers questions over a collection with any strategy: builds the strategy `kind` names
/// (`StrategyFactory`) and runs it over the collection's reader.
///
/// When `recordOrigin` is set, every finished answer is kept in the collection's record graph
/// (`records`) and strategies may read it (`AnsweringContext.records`); when it is nil nothing
/// is written and strategies get no record graph.
public struct Answerer: Sendable {
  public typealias Configuration = CollectionReader.Configuration

  public let reader: CollectionReader
  public let embedder: any TextEmbedder
  public let model: any LanguageModel
  public let strategies: StrategyFactory
  /// The strategy used when a call names none.
  public var defaultStrategy: StrategyKind
  public let prompts: PromptLibrary
  /// The collection's record graph.
  public let records: RecordBook
  /// Where this answerer's answers come from when they are kept as records; nil keeps none
  /// (`--no-record`, benchmarks, tests).
  public var recordOrigin: RecordOrigin?
  /// Told, in one line, when a finished answer could not be kept as a record. The answer is
  /// still returned, with the same line as a `note` step of its trace.
  public var recordFailure: (@Sendable (String) -> Void)?
  /// Stored KV pages strategies splice into prompts (nil: passages are read as text).
  public var kvPages: (any KVPageSource)?

  public init(
    retriever: HybridRetriever, embedder: any TextEmbedder, model: any LanguageModel,
    strategies: StrategyFactory = StrategyFactory(), defaultStrategy: StrategyKind = .rag, prompts: PromptLibrary,
    configuration: Configuration = .init(), recordOrigin: RecordOrigin? = nil
  ) {
    self.reader = CollectionReader(retriever: retriever, configuration: configuration)
    self.embedder = embedder
    self.model = model
    self.strategies = strategies
    self.defaultStrategy = defaultStrategy
    self.prompts = prompts
    self.records = RecordBook(collection: retriever.collection)
    self.recordOrigin = recordOrigin
  }

  public var retriever: HybridRetriever { reader.retriever }
  public var configuration: Configuration { reader.configuration }

  /// The context a strategy runs in for one question: the reader limited to `documents` (nil:
  /// the whole collection), and the record graph when answers are kept.
  public func context(parameters: GenerationParameters, documents: Set<DocumentID>? = nil) -> AnsweringContext {
    AnsweringContext(
      model: model, embedder: embedder, prompts: prompts, reader: reader.scoped(to: documents), parameters: parameters,
      records: recordOrigin == nil ? nil : records, kvPages: kvPages)
  }

  /// Answers `question` with `strategy` (default: `defaultStrategy`) within `documents` (nil:
  /// the whole collection), streaming the strategy's events (the last is `.finished`). The
  /// finished answer is kept as a record first when `recordOrigin` is set (not when the
  /// consumer stopped listening: a cancelled answer is partial).
  public func answer(
    _ question: String, strategy: StrategyKind? = nil, parameters: GenerationParameters = .greedy(maxTokens: 256),
    documents: Set<DocumentID>? = nil
  ) -> AsyncThrowingStream<AnswerEvent, any Error> {
    let events = strategies.make(strategy ?? defaultStrategy)
      .answer(question: question, context: context(parameters: parameters, documents: documents))
    guard recordOrigin != nil else { return events }
    let (stream, continuation) = AsyncThrowingStream<AnswerEvent, any Error>.makeStream()
    let task = Task {
      do {
        for try await event in events {
          if case .finished(let answer) = event {
            continuation.yield(.finished(keep(answer)))
          } else {
            continuation.yield(event)
          }
        }
        continuation.finish()
      } catch {
        continuation.finish(throwing: error)
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  /// Answers `question` within `documents` (nil: the whole collection) and returns the
  /// finished answer, kept as a record when `recordOrigin` is set.
  public func answer(
    _ question: String, strategy: StrategyKind? = nil, parameters: GenerationParameters = .greedy(maxTokens: 256),
    documents: Set<DocumentID>? = nil
  ) async throws -> Answer {
    let answer = try await strategies.make(strategy ?? defaultStrategy)
      .answer(question: question, context: context(parameters: parameters, documents: documents))
    return keep(answer)
  }

  /// Writes `answer` to the record graph when recording (and the task is not cancelled);
  /// returns it, with a trace note when the write failed.
  func keep(_ answer: Answer) -> Answer {
    guard let origin = recordOrigin, !Task.isCancelled else { return answer }
    do {
      if let record = try NewRecord(answer: answer, origin: origin, embedder: embedder) { try records.save(record) }
      return answer
    } catch {
      let message = "the answer was not kept as a record: " + "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
      recordFailure?(message)
      var noted = answer
      noted.trace.append(TraceStep(kind: .note, label: "record", detail: message))
      return noted
    }
  }
}
