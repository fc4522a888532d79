import Foundation
import TomeCore
public import TomeKit

/// Runs a `RetrievalDataset` against an index built from it, for each retrieval mode.
public struct RetrievalEvaluation: Sendable {
  public let retriever: HybridRetriever
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
      var seen = Set<String>()
      var ranking: [String] = []
      for result in results {
        let name = URL(fileURLWithPath: result.chunk.span.path).deletingPathExtension().lastPathComponent
        if seen.insert(name).inserted { ranking.append(name) }
      }
      metrics.add(ranking: ranking, relevant: query.relevant)
      progress(i + 1)
    }
    return metrics.averaged
  }
}
