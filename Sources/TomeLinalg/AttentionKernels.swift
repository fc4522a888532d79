/// Single-query attention kernels for decoding with grouped-query attention.
///
/// Keys and values are half floats, position-major (`stride` values per position, a head's slice at
/// `kvHead · headDimension`). The query heads that share a KV head are handled together so
/// each cached row is read once per group, not once per head.
public enum AttentionKernels {
  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
    SIMD16<Float>(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self))
  }

  /// `scores[h · scoreStride + j] = scale · q_h · k_j` for the `group` query heads at `queries`
  /// (`headDimension` apart) and key positions `positions`. `headDimension` must be 64.
  public static func scores(
    queries: UnsafePointer<Float>, group: Int, keys: UnsafePointer<Float16>, stride: Int,
    positions: Range<Int>, scale: Float, into scores: UnsafeMutablePointer<Float>, scoreStride: Int
  ) {
    precondition(group >= 1 && group <= 4, "query group of \(group) heads")
    if group == 3 {
      scores3(queries: queries, keys: keys, stride: stride, positions: positions, scale: scale, into: scores, scoreStride: scoreStride)
      return
    }
    for h in 0..<group {
      let q = queries + 64 * h
      let sv = SIMD16<Float>(repeating: scale)
      let q0 = load(q) * sv, q1 = load(q + 16) * sv, q2 = load(q + 32) * sv, q3 = load(q + 48) * sv
      for j in positions {
        let k = keys + j * stride
        var a = q0 * load(k)
        a.addProduct(q1, load(k + 16))
        a.addProduct(q2, load(k + 32))
        a.addProduct(q3, load(k + 48))
        scores[h * scoreStride + j] = a.sum()
      }
    }
  }

  /// Three query heads per KV head (SmolLM2): each key row is loaded once for the three dot
  /// products. Lanes are reduced only to 8 in the main loop and finished by `finish`: a
  /// per-key horizontal sum makes LLVM scalarise the whole loop (measured 4× slower).
  @inline(__always)
  static func scores3(
    queries: UnsafePointer<Float>, keys: UnsafePointer<Float16>, stride: Int, positions: Range<Int>, scale: Float,
    into scores: UnsafeMutablePointer<Float>, scoreStride: Int
  ) {
    let scale = SIMD16<Float>(repeating: scale)
    let a0 = load(queries) * scale, a1 = load(queries + 16) * scale
    let a2 = load(queries + 32) * scale, a3 = load(queries + 48) * scale
    let b0 = load(queries + 64) * scale, b1 = load(queries + 80) * scale
    let b2 = load(queries + 96) * scale, b3 = load(queries + 112) * scale
    let c0 = load(queries + 128) * scale, c1 = load(queries + 144) * scale
    let c2 = load(queries + 160) * scale, c3 = load(queries + 176) * scale
    let block = 128
    withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 3 * block) { buf in
      let partial = buf.baseAddress.unsafelyUnwrapped
      var start = positions.lowerBound
      while start < positions.upperBound {
        let n = min(block, positions.upperBound - start)
        for i in 0..<n {
          let k = keys + (start + i) * stride
          let k0 = load(k), k1 = load(k + 16), k2 = load(k + 32), k3 = load(k + 48)
          var x = a0 * k0
          x.addProduct(a1, k1)
          x.addProduct(a2, k2)
          x.addProduct(a3, k3)
          var y = b0 * k0
          y.addProduct(b1, k1)
          y.addProduct(b2, k2)
          y.addProduct(b3, k3)
          var z = c0 * k0
          z.addProduct(c1, k1)
          z.addProduct(c2, k2)
          z.addProduct(c3, k3)
          partial[i] = x.lowHalf + x.highHalf
          partial[block + i] = y.lowHalf + y.highHalf
          partial[2 * block + i] = z.lowHalf + z.highHalf
        }
        for h in 0..<3 { finish(partial + h * block, count: n, into: scores + h * scoreStride + start) }
        start += n
      }
    }
  }

  /// `out[i] = sum(partial[i])`.
  @inline(never)
  static func finish(_ partial: UnsafePointer<SIMD8<Float>>, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { out[i] = partial[i].sum() }
  }

  /// `out[h · 64 + c] = Σ_j weights[h · weightStride + j] · v_j[c]` for the `group` heads and
  /// the 16-wide column chunk `chunk` (0…3) of a 64-dimensional head, over `length` positions.
  public static func weightedSum(
    weights: UnsafePointer<Float>, weightStride: Int, group: Int, values: UnsafePointer<Float16>, stride: Int,
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
