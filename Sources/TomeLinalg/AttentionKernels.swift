/// Single-query attention kernels for decoding with grouped-query attention.
///
/// Keys and values are position-major (`stride` floats per position, a head's slice at
/// `kvHead · headDimension`). The query heads that share a KV head are handled together so
/// each cached row is read once per group, not once per head.
public enum AttentionKernels {
  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  /// `scores[h · scoreStride + j] = scale · q_h · k_j` for the `group` query heads at `queries`
  /// (`headDimension` apart) and key positions `positions`. `headDimension` must be 64.
  public static func scores(
    queries: UnsafePointer<Float>, group: Int, keys: UnsafePointer<Float>, stride: Int,
    positions: Range<Int>, scale: Float, into scores: UnsafeMutablePointer<Float>, scoreStride: Int
  ) {
    precondition(group >= 1 && group <= 4, "query group of \(group) heads")
    var q = [SIMD16<Float>](repeating: .zero, count: 16)
    for h in 0..<group {
      for c in 0..<4 { q[4 * h + c] = load(queries + 64 * h + 16 * c) * scale }
    }
    q.withUnsafeBufferPointer { qb in
      let qv = qb.baseAddress.unsafelyUnwrapped
      for j in positions {
        let k = keys + j * stride
        let k0 = load(k), k1 = load(k + 16), k2 = load(k + 32), k3 = load(k + 48)
        for h in 0..<group {
          var a = qv[4 * h] * k0
          a.addProduct(qv[4 * h + 1], k1)
          a.addProduct(qv[4 * h + 2], k2)
          a.addProduct(qv[4 * h + 3], k3)
          scores[h * scoreStride + j] = a.sum()
        }
      }
    }
  }

  /// `out[h · 64 + c] = Σ_j weights[h · weightStride + j] · v_j[c]` for the `group` heads and
  /// the 16-wide column chunk `chunk` (0…3) of a 64-dimensional head, over `length` positions.
  public static func weightedSum(
    weights: UnsafePointer<Float>, weightStride: Int, group: Int, values: UnsafePointer<Float>, stride: Int,
    length: Int, chunk: Int, into out: UnsafeMutablePointer<Float>
  ) {
    precondition(group >= 1 && group <= 4, "query group of \(group) heads")
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()
    let base = values + 16 * chunk
    for j in 0..<length {
      let v = load(base + j * stride)
      acc0.addProduct(SIMD16(repeating: weights[j]), v)
      if group > 1 { acc1.addProduct(SIMD16(repeating: weights[weightStride + j]), v) }
      if group > 2 { acc2.addProduct(SIMD16(repeating: weights[2 * weightStride + j]), v) }
      if group > 3 { acc3.addProduct(SIMD16(repeating: weights[3 * weightStride + j]), v) }
    }
    let accs = [acc0, acc1, acc2, acc3]
    for h in 0..<group {
      UnsafeMutableRawPointer(out + 64 * h + 16 * chunk).storeBytes(of: accs[h], as: SIMD16<Float>.self)
    }
  }
}
