public import TomeCore

/// GemFilter (Shi, Ming, Nguyen, Liang, Joty 2024, arXiv 2409.17422; METHODS-INDEX-KV.md §5):
/// a middle layer already knows which prompt tokens the question needs, so read the long
/// prompt through layers 0…r only, keep the k tokens the last token's query points at, and let
/// the whole model answer from those alone.
///
/// The selection, as in the authors' code: at layer r, the raw score of position j is
/// s_j = Σ_h q_last^h · k_j^h over the query heads (post-RoPE, kv heads expanded, no softmax
/// and no 1/√d); scores are smoothed by a 1-D average pool (kernel 5, stride 1, two zeros of
/// padding each side, always divided by 5); the k best positions are kept in their original
/// order. Ours (§5 [ours]): the prompt's head (template and system message, up to the
/// passages) and its tail (the instructions and question after them, the assistant header)
/// are always kept, and the k are chosen among the passage tokens between them. The kept
/// tokens are then prefilled afresh at positions 0…, so the model answers a shorter prompt
/// of the same tokens; nothing of the early pass is reused.
///
/// It applies when the passages hold more than k tokens; below that there is nothing to drop.
///
/// **The layer sweep** (below; default r from it): TODO
public enum GemFilter {
  public struct Configuration: Sendable, Hashable {
    /// The layer whose query and keys choose (0-based).
    public var layer: Int
    /// Passage tokens kept (the prompt's head and question tail come on top).
    public var keptTokens: Int

    public init(layer: Int = 13, keptTokens: Int = 1_024) {
      precondition(keptTokens > 0, "GemFilter keeps at least one token")
      self.layer = layer
      self.keptTokens = keptTokens
    }
  }

  /// The parts of a prompt the selection never drops: `head` tokens at the start and `tail`
  /// at the end.
  struct Protected: Hashable {
    var head: Int
    var tail: Int
  }

  /// What the prompt `full` shares with `bare`, the same prompt without its passages: the
  /// common prefix is the head, the common suffix (not overlapping it) the tail.
  static func protected(_ full: [Int], bare: [Int]) -> Protected {
    var head = 0
    while head < min(full.count, bare.count), full[head] == bare[head] { head += 1 }
    var tail = 0
    while tail < min(full.count, bare.count) - head, full[full.count - 1 - tail] == bare[bare.count - 1 - tail] { tail += 1 }
    return Protected(head: head, tail: tail)
  }

  /// Raw scores s_j = Σ_h q^h · k_j^h at `reading`'s layer, one row of one score per position
  /// for each query position read, in order (the last row is the last token's).
  ///
  /// The query heads sharing a kv head are summed first (Σ_h q^h · k = (Σ_h q^h) · k), so the
  /// expansion of grouped kv heads costs nothing.
  /// - Complexity: O(queries · kvHeads · n · d).
  static func scores(_ reading: LayerReading) -> [[Float]] {
    let n = reading.tokenCount, d = reading.headDimension
    let group = reading.headCount / reading.kvHeadCount
    return (0..<reading.queryPositions.count).map { row in
      var scores = [Float](repeating: 0, count: n)
      for kv in 0..<reading.kvHeadCount {
        var query = [Float](repeating: 0, count: d)
        for h in (kv * group)..<((kv + 1) * group) {
          let q = (row * reading.headCount + h) * d
          for i in 0..<d { query[i] += reading.queries[q + i] }
        }
        let base = kv * n * d
        for j in 0..<n {
          var dot: Float = 0
          for i in 0..<d { dot += query[i] * reading.keys[base + j * d + i] }
          scores[j] += dot
        }
      }
      return scores
    }
  }

  /// `row` standardised over `positions` (mean 0, standard deviation 1 there), so rows of
  /// different scales count alike when summed; other positions are shifted and scaled alike.
  static func standardized(_ row: [Float], over positions: Range<Int>) -> [Float] {
    guard positions.count > 1 else { return row }
    let mean = positions.reduce(0.0) { $0 + Double(row[$1]) } / Double(positions.count)
    let variance = positions.reduce(0.0) { $0 + (Double(row[$1]) - mean) * (Double(row[$1]) - mean) } / Double(positions.count)
    let sd = variance.squareRoot()
    guard sd > 0 else { return row.map { _ in 0 } }
    return row.map { Float((Double($0) - mean) / sd) }
  }

  /// The 1-D average pool GemFilter smooths with: kernel 5, stride 1, zero padding 2, divided
  /// by 5 at the edges too, so the output has the input's length.
  static func pooled(_ scores: [Float]) -> [Float] {
    scores.indices.map { j in
      var sum: Float = 0
      for t in max(0, j - 2)...min(scores.count - 1, j + 2) { sum += scores[t] }
      return sum / 5
    }
  }

  /// Positions to keep, ascending: all of `protected`'s head and tail, and the `count`
  /// best-scored positions between them (ties to the earlier position).
  /// - Complexity: O(n log n).
  static func select(scores: [Float], count: Int, protected: Protected) -> [Int] {
    let middle = protected.head..<max(protected.head, scores.count - protected.tail)
    let best = middle.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(count)
    return Array(0..<protected.head) + best.sorted() + Array(middle.upperBound..<scores.count)
  }
}
