/// Ranking metrics over a set of queries: recall@k, MRR and nDCG@10.
///
/// Recall@k counts a query as a hit when any relevant document is in the top k (the usual
/// reading for one gold passage per question, as in SQuAD). nDCG@10 uses graded gains with the
/// log2(rank + 1) discount and the ideal ordering of the judged documents.
public struct RetrievalMetrics: Sendable, Codable, Hashable {
  public var queries = 0
  public var recallAt1 = 0.0
  public var recallAt5 = 0.0
  public var recallAt20 = 0.0
  public var mrr = 0.0
  public var ndcgAt10 = 0.0

  public init() {}

  /// Adds one query's ranked document names.
  public mutating func add(ranking: [String], relevant: [String: Double]) {
    queries += 1
    let firstHit = ranking.firstIndex { relevant[$0] != nil }
    if let r = firstHit {
      if r < 1 { recallAt1 += 1 }
      if r < 5 { recallAt5 += 1 }
      if r < 20 { recallAt20 += 1 }
      mrr += 1 / Double(r + 1)
    }
    ndcgAt10 += Self.ndcg(ranking: ranking, relevant: relevant, depth: 10)
  }

  /// Averages over the queries added.
  public var averaged: RetrievalMetrics {
    guard queries > 0 else { return self }
    var m = self
    let n = Double(queries)
    m.recallAt1 /= n
    m.recallAt5 /= n
    m.recallAt20 /= n
    m.mrr /= n
    m.ndcgAt10 /= n
    return m
  }

  /// nDCG at `depth` for one ranking.
  public static func ndcg(ranking: [String], relevant: [String: Double], depth: Int) -> Double {
    func dcg(_ gains: [Double]) -> Double {
      gains.prefix(depth).enumerated().reduce(0) { $0 + $1.element / log2(Double($1.offset + 2)) }
    }
    let ideal = dcg(relevant.values.sorted(by: >))
    guard ideal > 0 else { return 0 }
    return dcg(ranking.map { relevant[$0] ?? 0 }) / ideal
  }
}

import Foundation
