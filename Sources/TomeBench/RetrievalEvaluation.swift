import Foundation
public import TomeCore
public import TomeKit
public import TomeReasoning

/// Runs a `RetrievalDataset` against an index built from it, for each retrieval mode.
public struct RetrievalEvaluation: Sendable {
  public var retriever: HybridRetriever
  /// Chunks retrieved per query before they are folded into documents.
  public var depth: Int

  public init(retriever: HybridRetriever, depth: Int = 50) {
    self.retriever = retriever
    self.depth = depth
  }

  /// Metrics of `mode` over every query of `dataset`.
  /// - Parameter progress: called with the number of queries done.
  public func evaluate(
    _ dataset: RetrievalDataset, mode: RetrievalMode, progress: (Int) -> Void = { _ in }
  ) throws -> RetrievalMetrics {
    var metrics = RetrievalMetrics()
    for (i, query) in dataset.queries.enumerated() {
      let results = try retriever.search(query.text, k: depth, mode: mode).results
      metrics.add(ranking: RerankEvaluation.documents(results), relevant: query.relevant)
      progress(i + 1)
    }
    return metrics.averaged
  }
}

/// Re-ranking the first hits of each query with the model (`PassageReranker`).
public struct RerankEvaluation: Sendable {
  public var reranker: PassageReranker
  public var model: any LanguageModel
  public var pages: (any KVPageSource)?
  /// Hits re-ranked per query (the rest keep their order after them).
  public var depth: Int

  public init(reranker: PassageReranker, model: any LanguageModel, pages: (any KVPageSource)?, depth: Int) {
    self.reranker = reranker
    self.model = model
    self.pages = pages
    self.depth = depth
  }

  /// Metrics of the retriever's order, of the re-ranked order and of the fused order, and
  /// the mean seconds and model tokens re-ranking added per query.
  public struct Result: Sendable {
    public var plain: RetrievalMetrics
    public var reranked: RetrievalMetrics
    public var fused: RetrievalMetrics
    public var secondsPerQuery: Double
    public var tokensPerQuery: Double
    public var pagedFraction: Double
  }

  public func evaluate(
    _ dataset: RetrievalDataset, retriever: HybridRetriever, mode: RetrievalMode, progress: (Int) -> Void = { _ in }
  ) throws -> Result {
    var plain = RetrievalMetrics(), reranked = RetrievalMetrics(), fused = RetrievalMetrics()
    var seconds = 0.0, tokens = 0, paged = 0, scored = 0
    for (i, query) in dataset.queries.enumerated() {
      let results = try retriever.search(query.text, k: max(depth, 50), mode: mode).results
      let start = ContinuousClock.now
      let orders = try rerank(query.text, results)
      seconds += (ContinuousClock.now - start).seconds
      tokens += orders.cost.tokens
      paged += orders.cost.paged
      scored += min(depth, results.count)
      plain.add(ranking: Self.documents(results), relevant: query.relevant)
      reranked.add(ranking: Self.documents(orders.reranked), relevant: query.relevant)
      fused.add(ranking: Self.documents(orders.fused), relevant: query.relevant)
      progress(i + 1)
    }
    let n = Double(max(dataset.queries.count, 1))
    return Result(
      plain: plain.averaged, reranked: reranked.averaged, fused: fused.averaged, secondsPerQuery: seconds / n,
      tokensPerQuery: Double(tokens) / n, pagedFraction: Double(paged) / Double(max(scored, 1)))
  }

  /// `results` with their first `depth` hits re-ranked by the model alone and fused with the
  /// retrieval order (the rest after them, in order), and what scoring cost.
  public func rerank(_ question: String, _ results: [SearchResult]) throws -> (
    reranked: [SearchResult], fused: [SearchResult], cost: PassageReranker.Cost
  ) {
    let head = Array(results.prefix(depth))
    let passages = head.map { Passage(id: $0.chunkID, text: $0.chunk.text, span: $0.chunk.span, score: $0.score) }
    guard let (scores, cost) = try reranker.scores(question: question, passages: passages, model: model, pages: pages) else {
      throw ReasoningError.rerankUnavailable(model: model.identifier)
    }
    let rest = results.dropFirst(depth)
    return (
      PassageReranker.order(scores, fused: false).map { head[$0] } + rest,
      PassageReranker.order(scores, fused: true).map { head[$0] } + rest, cost
    )
  }

  /// Document names in first-appearance order.
  static func documents(_ results: [SearchResult]) -> [String] {
    var seen = Set<String>()
    return results.compactMap {
      let name = URL(fileURLWithPath: $0.chunk.span.path).deletingPathExtension().lastPathComponent
      return seen.insert(name).inserted ? name : nil
    }
  }
}
