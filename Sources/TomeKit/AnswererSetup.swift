public import Foundation
public import TomeCore
public import TomeReasoning
import TomeStore

/// What `tome ask`, `chat`, `batch` and `serve` choose when they answer: how much to retrieve,
/// how to order it, which model answers and which prompts it reads.
public struct AnswererSettings: Sendable, Hashable {
  public var retrieval: Answerer.Configuration
  /// Every strategy's settings.
  public var strategies: StrategyFactory
  /// The strategy used when a question names none.
  public var strategy: StrategyKind
  public var model: LanguageModelSource
  /// Folder of prompt templates.
  public var prompts: URL
  /// Splice the index's stored KV pages (`tome kv build`) into prompts when it has pages for
  /// the model (false: the model reads every passage, `--no-kv-pages`).
  public var kvPages: Bool

  public init(
    retrieval: Answerer.Configuration = .init(), strategies: StrategyFactory = .init(), strategy: StrategyKind = .rag,
    model: LanguageModelSource = .local(file: nil), prompts: URL, kvPages: Bool = true
  ) {
    self.retrieval = retrieval
    self.strategies = strategies
    self.strategy = strategy
    self.model = model
    self.prompts = prompts
    self.kvPages = kvPages
  }
}

extension Answerer {
  /// Builds the answerer `settings` describe over `collection`: loads the encoder and the
  /// model (unless `model` is given, e.g. a server's shared one) and checks the prompts.
  /// `environment` is where an endpoint's token variable is looked up (the CLI passes the
  /// process environment; a library never reads it on its own).
  ///
  /// `recordOrigin` keeps every finished answer as a record of that origin (nil: none).
  ///
  /// Every strategy's templates are checked up front (a batch or chat may switch strategy
  /// per question), so a missing file is an error before any model is loaded.
  ///
  /// - Throws: `CollectionError.empty` for an index without chunks; the loaders' errors for
  ///   missing or corrupt weights; `ReasoningError.missingTemplate` for a missing template.
  public static func open(
    collection: Collection, models: ModelDirectory, settings: AnswererSettings,
    model: (any LanguageModel)? = nil, environment: [String: String], indexKind: VectorIndexKind? = nil,
    recordOrigin: RecordOrigin? = nil
  ) throws -> Answerer {
    if try collection.store.totals().chunks == 0 {
      throw CollectionError.empty(path: collection.location.directory.path)
    }
    let library = PromptLibrary(directory: settings.prompts)
    for name in StrategyFactory.templates(for: .auto) { _ = try library.template(name) }
    let encoder = try models.loadEncoder()
    let languageModel = try model ?? settings.model.load(models: models, environment: environment)
    var answerer = Answerer(
      retriever: try HybridRetriever(collection: collection, embedder: encoder.embedder, indexKind: indexKind), embedder: encoder.embedder,
      model: languageModel, strategies: settings.strategies, defaultStrategy: settings.strategy, prompts: library,
      configuration: settings.retrieval, recordOrigin: recordOrigin)
    if settings.kvPages, languageModel is any PagedPrompting,
      try collection.store.kvPageTotals().contains(where: { $0.model == languageModel.identifier })
    {
      answerer.kvPages = KVPageStore(collection: collection)
    }
    return answerer
  }
}

/// A collection that cannot be answered from.
public enum CollectionError: Error, CustomStringConvertible, Sendable, Hashable {
  case empty(path: String)

  public var description: String {
    switch self {
    case .empty(let path): "\(path): the index is empty; run `tome ingest PATH` first"
    }
  }
}
