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
/// **The layer sweep.** A pass key ("The pass key is N. Remember it. N is the pass key.") at
/// depths 0, 25, 50, 75 and 100 % of Paul Graham essays, as the one passage of `rag`'s real
/// prompt; the prompt read once through all 30 layers; at each layer, the cases whose selection
/// keeps every token of the needle sentence, and the mean share of its 25 tokens kept (needle
/// recall). SmolLM2-135M-Instruct Q4_1, AMD EPYC, 2 cores shared with another engineer's jobs
/// (OpenBLAS SkylakeX kernels), 459 s:
///
///                  whole needle kept (of 5)    needle tokens kept (%)   k = 256
///     prompt tokens 1160 2156 4130 7661  all   1160 2156 4130 7661  mean   all  mean
///     layer  0         4    2    1    1    8     96   46   20   22    46     4    21
///     layer  7         1    0    1    0    2     86   32   22   19    40     0     9
///     layer  9         3    1    1    1    6     98   38   20   23    45     5    25
///     layer 13         5    2    1    2   10    100   79   30   40    62     4    25
///     layer 16         5    1    1    1    8    100   71   22   30    56     4    24
///     layer 18         5    2    0    1    8    100   85   42   35    66     1    43
///     layer 19         5    1    1    1    8    100   66   24   28    55     4    24
///     layer 20         5    4    1    1   11    100   97   46   42    71     2    37
///     layer 21         5    4    2    1   12    100   98   66   54    80     4    50
///     layer 22         5    5    1    1   12    100  100   39   36    69     5    41
///     layer 23         5    2    1    1    9    100   94   51   30    69     3    40
///     layer 25         5    3    1    1   10    100   78   20   34    58     4    30
///     layer 28         5    4    1    1   11    100   94   29   33    64     4    35
///     layer 29         5    3    1    1   10    100   90   41   30    65     3    30
///     (k = 1,024 unless marked; at k = 256 layers 1–8 and 17 keep no needle at all)
///
/// Layer 21 leads on every measure (80 % needle recall at k = 1,024, 50 % at k = 256), and a
/// second run with other pass keys (lengths 2k, 4k, 7.5k; 15 cases) again put it first (7 of
/// 15 whole; layer 13: 5). So the default is layer 21, later than the paper's 40–60 % depth,
/// and the early pass costs about 22/30 of a full prefill. On this model the recipe is weak
/// beyond 2k tokens (54 % recall at 7.6k): the needle at 75 % depth is kept at almost every
/// layer and the others rarely, so the selection follows position more than content. Two
/// variants measured in that second run did not help: summing the standardised rows of all
/// question-tail queries, and the question's rows minus the instructions' rows (a positional
/// correction).
///
/// Reproduce: `TOME_GEM_SWEEP=1 OPENBLAS_CORETYPE=Cooperlake swift test -c release
/// -Xswiftc -enable-testing --skip-build --filter GemFilterSweep`
/// (Tests/TomeReasoningTests/GemFilterSweep.swift; `TOME_GEM_SWEEP_LENGTHS` and
/// `TOME_GEM_SWEEP_DEPTHS` change the grid). The same run times the early exit on 7,633
/// tokens against a full prefill (43.1 s): r = 4: 0.16, r = 9: 0.25, r = 14: 0.38,
/// r = 19: 0.51, r = 29: 0.97 of it, at or under (r + 1) / L (0.17, 0.33, 0.50, 0.67, 1);
/// an earlier run, noisier, gave 0.09, 0.27, 0.79, 0.64, 0.94.
///
/// Needs the in-process model: over an HTTP endpoint the call throws
/// `ReasoningError.filterUnavailable` rather than send the unfiltered prompt.
public enum GemFilter {
  public struct Configuration: Sendable, Hashable {
    /// The layer whose query and keys choose (0-based). The default, 21, is the best of the
    /// sweep in the type's documentation.
    public var layer: Int
    /// Passage tokens kept (the prompt's head and question tail come on top).
    public var keptTokens: Int

    public init(layer: Int = 21, keptTokens: Int = 1_024) {
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
    return reading.queries.withUnsafeBufferPointer { queries in
      reading.keys.withUnsafeBufferPointer { keys in
        (0..<reading.queryPositions.count).map { row in
          var scores = [Float](repeating: 0, count: n)
          var query = [Float](repeating: 0, count: d)
          for kv in 0..<reading.kvHeadCount {
            for i in 0..<d { query[i] = 0 }
            for h in (kv * group)..<((kv + 1) * group) {
              let q = (row * reading.headCount + h) * d
              for i in 0..<d { query[i] += queries[q + i] }
            }
            query.withUnsafeBufferPointer { qv in
              scores.withUnsafeMutableBufferPointer { out in
                for j in 0..<n {
                  let k = keys.baseAddress.unsafelyUnwrapped + (kv * n + j) * d
                  var dot: Float = 0
                  for i in 0..<d { dot += qv[i] * k[i] }
                  out[j] += dot
                }
              }
            }
          }
          return scores
        }
      }
    }
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
