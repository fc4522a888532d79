public import TomeCore

/// Reciprocal Rank Fusion (Cormack, Clarke & Büttcher, SIGIR 2009): merges ranked lists from
/// different retrievers (BM25, dense) without calibrating their scores.
///
/// An item's fused score is Σ 1 / (k + rank) over the lists that contain it, with 1-based
/// ranks; an item that appears twice in one list counts at its best rank. Results are ordered
/// by fused score, then by id, so fusion is deterministic.
public struct ReciprocalRankFusion: Sendable, Equatable {
  /// The rank constant; 60 in the paper. Larger values flatten the head of each list.
  public var k: Double

  public init(k: Double = 60) {
    precondition(k >= 0, "k must not be negative")
    self.k = k
  }

  /// Fuses ranked lists (each best first) into one.
  ///
  /// - Parameters:
  ///   - lists: ranked neighbour lists; their scores are ignored, only the order counts.
  ///   - limit: keep at most this many results (all when nil).
  /// - Returns: neighbours with the fused score, best first; ties broken by smaller id.
  /// - Complexity: O(m log m) for m hits over all lists.
  public func fuse(_ lists: [[Neighbor]], limit: Int? = nil) -> [Neighbor] {
    fuse(lists, weights: Array(repeating: 1, count: lists.count), limit: limit)
  }

  /// Weighted reciprocal rank fusion: list i adds `weights[i] / (k + rank)`.
  ///
  /// Equal weights let a weak list (BM25 on questions whose words are everywhere in the
  /// collection) drag a good one down; weights fitted on held-apart questions of a collection
  /// say how far to trust each retriever there. A weight of 0 drops a list.
  /// - Precondition: one weight per list, none negative.
  public func fuse(_ lists: [[Neighbor]], weights: [Double], limit: Int? = nil) -> [Neighbor] {
    precondition(weights.count == lists.count, "\(weights.count) weights for \(lists.count) lists")
    precondition(weights.allSatisfy { $0 >= 0 }, "weights must not be negative")
    var scores: [Int64: Double] = [:]
    for (list, weight) in zip(lists, weights) where weight > 0 {
      var seen: Set<Int64> = []
      for (index, hit) in list.enumerated() where seen.insert(hit.id).inserted {
        scores[hit.id, default: 0] += weight / (k + Double(index + 1))
      }
    }
    let ranked = scores.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }
    let kept = limit.map { ranked.prefix(max(0, $0)) } ?? ranked[...]
    return kept.map { Neighbor(id: $0.key, score: Float($0.value)) }
  }
}
