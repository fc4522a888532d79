internal import CTomeKernels

/// Single-query attention kernels for decoding with grouped-query attention.
///
/// Keys and values are half floats, position-major (`stride` values per position, a head's slice at
/// `kvHead · headDimension`). The query heads that share a KV head are handled together so
/// each cached row is read once per group, not once per head. The loops are in CTomeKernels.
public enum AttentionKernels {
  /// `scores[h · scoreStride + j] = scale · q_h · k_j` for the `group` query heads at `queries`
  /// (`headDimension` apart) and key positions `positions`. `headDimension` must be 64.
  public static func scores(
    queries: UnsafePointer<Float>, group: Int, keys: UnsafePointer<Float16>, stride: Int,
    positions: Range<Int>, scale: Float, into scores: UnsafeMutablePointer<Float>, scoreStride: Int
  ) {
    precondition(group >= 1 && group <= 4, "query group of \(group) heads")
    tk_attention_scores(
      queries, group, keys, stride, positions.lowerBound, positions.upperBound, scale, scores, scoreStride)
  }

  /// `out[h · 64 + c] = Σ_j weights[h · weightStride + j] · v_j[c]` for the `group` heads and
  /// the 16-wide column chunk `chunk` (0…3) of a 64-dimensional head, over `length` positions.
  public static func weightedSum(
    weights: UnsafePointer<Float>, weightStride: Int, group: Int, values: UnsafePointer<Float16>, stride: Int,
    length: Int, chunk: Int, into out: UnsafeMutablePointer<Float>
  ) {
    precondition(group >= 1 && group <= 4, "query group of \(group) heads")
    tk_attention_weighted_sum(weights, weightStride, group, values, stride, length, chunk, out)
  }
}
