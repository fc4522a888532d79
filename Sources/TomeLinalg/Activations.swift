/// Vectorised element-wise kernels: exp, erf, GELU and row softmax.
///
/// All kernels work on `SIMD16<Float>` lanes with fused multiply-adds (`addingProduct`), which
/// the numeric targets' `-target-cpu haswell` flag turns into AVX2 FMA instructions
/// (PERFORMANCE.md, "the target-CPU trap"). glibc's `expf`/`erff` cost 3 and 15 ns per element;
/// these polynomials run well under 1 ns per element.
public enum Activations {
  // MARK: exp

  /// e^x for 16 lanes (Cephes `expf` polynomial, range reduction by ln 2 in two parts).
  ///
  /// Inputs are clamped to [-87.3, 88.3], so the result is always a normal finite float; the
  /// relative error is about 2 ulp. Rounding to the nearest integer uses the 1.5·2²³ magic number
  /// and the power of two is built from the integer bits, so nothing scalarises.
  @inline(__always)
  public static func exp(_ v: SIMD16<Float>) -> SIMD16<Float> {
    let x = pointwiseMin(pointwiseMax(v, SIMD16(repeating: -87.3)), SIMD16(repeating: 88.3))
    let magic = SIMD16<Float>(repeating: 12_582_912)  // 1.5 · 2^23
    let t = magic.addingProduct(x, SIMD16(repeating: 1.442_695_040_888_963_4))
    let n = t - magic
    var r = x.addingProduct(n, SIMD16(repeating: -0.693_359_375))
    r = r.addingProduct(n, SIMD16(repeating: 2.121_944_400_546_905_8e-4))
    var p = SIMD16<Float>(repeating: 1.987_569_150_0e-4)
    p = SIMD16(repeating: 1.398_199_950_7e-3).addingProduct(p, r)
    p = SIMD16(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
    p = SIMD16(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
    p = SIMD16(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
    p = SIMD16(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
    p = (r + 1).addingProduct(p, r * r)
    // 2^n from the rounded value's low mantissa bits: bits(t) = 0x4B400000 + n.
    let bits = unsafeBitCast(t, to: SIMD16<UInt32>.self)
    let scale = (bits &+ SIMD16(repeating: 127 &- 0x4B40_0000)) &<< SIMD16(repeating: 23)
    return p * unsafeBitCast(scale, to: SIMD16<Float>.self)
  }

  // MARK: erf and GELU

  /// erf(x) for 16 lanes: a rational minimax approximation on [-4, 4] (the one Eigen and
  /// XLA use), max absolute error about 4·10⁻⁷ in single precision; |x| > 4 gives ±1.
  @inline(__always)
  public static func erf(_ v: SIMD16<Float>) -> SIMD16<Float> {
    let x = pointwiseMin(pointwiseMax(v, SIMD16(repeating: -4)), SIMD16(repeating: 4))
    let x2 = x * x
    var p = SIMD16<Float>(repeating: -2.726_142_258_013_06e-10)
    p = SIMD16(repeating: 2.770_681_424_959_02e-08).addingProduct(p, x2)
    p = SIMD16(repeating: -2.101_024_020_825_08e-06).addingProduct(p, x2)
    p = SIMD16(repeating: -5.692_506_394_623_46e-05).addingProduct(p, x2)
    p = SIMD16(repeating: -7.349_906_303_268_55e-04).addingProduct(p, x2)
    p = SIMD16(repeating: -2.954_599_808_540_25e-03).addingProduct(p, x2)
    p = SIMD16(repeating: -1.609_603_332_624_15e-02).addingProduct(p, x2)
    var q = SIMD16<Float>(repeating: -1.456_607_184_649_96e-05)
    q = SIMD16(repeating: -2.133_740_552_789_05e-04).addingProduct(q, x2)
    q = SIMD16(repeating: -1.682_826_974_382_03e-03).addingProduct(q, x2)
    q = SIMD16(repeating: -7.373_329_167_204_68e-03).addingProduct(q, x2)
    q = SIMD16(repeating: -1.426_473_905_141_89e-02).addingProduct(q, x2)
    return x * p / q
  }

  /// GELU with the exact erf form, 0.5·x·(1 + erf(x/√2)), for 16 lanes.
  @inline(__always)
  public static func gelu(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let e = erf(x * SIMD16(repeating: 0.707_106_781_186_547_5))
    return (x * 0.5).addingProduct(x * 0.5, e)
  }

  /// e^x for each element of a buffer, in place.
  /// - Complexity: O(n).
  public static func exp(_ buffer: UnsafeMutableBufferPointer<Float>) {
    map(buffer) { exp($0) }
  }

  /// erf for each element of a buffer, in place.
  /// - Complexity: O(n).
  public static func erf(_ buffer: UnsafeMutableBufferPointer<Float>) {
    map(buffer) { erf($0) }
  }

  /// Adds `bias` to every row of a row-major `rows × bias.count` matrix and applies GELU, in place.
  ///
  /// - Parameters:
  ///   - x: the matrix; its count must be a multiple of `bias.count`.
  ///   - bias: one value per column.
  /// - Complexity: O(n).
  public static func biasGELU(_ x: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>) {
    let columns = bias.count
    precondition(columns > 0 && x.count % columns == 0, "bias of \(columns) for \(x.count) values")
    guard let xp = x.baseAddress, let bp = bias.baseAddress else { return }
    let rows = x.count / columns
    let vectorEnd = columns & ~15
    for row in 0..<rows {
      let r = xp + row * columns
      var j = 0
      while j < vectorEnd {
        let v = load16(r + j) + load16(bp + j)
        store16(gelu(v), r + j)
        j += 16
      }
      if j < columns {
        var tail = SIMD16<Float>()
        for t in j..<columns { tail[t - j] = r[t] + bp[t] }
        let g = gelu(tail)
        for t in j..<columns { r[t] = g[t - j] }
      }
    }
  }

  /// Softmax of each row of a row-major matrix, in place: `rows` rows of `count` values, with
  /// rows `stride` floats apart. Values are multiplied by `scale` first (the attention logit
  /// scale), and the maximum is subtracted before exponentiation.
  /// - Complexity: O(rows · count).
  public static func softmaxRows(
    _ base: UnsafeMutablePointer<Float>, rows: Int, count: Int, stride: Int, scale: Float = 1
  ) {
    precondition(count > 0 && stride >= count, "softmax of \(count) values with stride \(stride)")
    let vectorEnd = count & ~15
    let lowest = SIMD16<Float>(repeating: -.greatestFiniteMagnitude)
    for row in 0..<rows {
      let r = base + row * stride
      // Max.
      var m = lowest
      var j = 0
      while j < vectorEnd {
        let v = load16(r + j)
        m.replace(with: v, where: v .> m)  // pointwiseMax scalarises in this loop
        j += 16
      }
      var maxValue = m.max()
      while j < count {
        maxValue = Swift.max(maxValue, r[j])
        j += 1
      }
      // exp(scale·(x − max)) and sum.
      let s = SIMD16<Float>(repeating: scale)
      let shift = SIMD16<Float>(repeating: -scale * maxValue)
      var sum = SIMD16<Float>()
      j = 0
      while j < vectorEnd {
        let e = exp(shift.addingProduct(load16(r + j), s))
        store16(e, r + j)
        sum += e
        j += 16
      }
      if j < count {
        var tail = SIMD16<Float>(repeating: -.infinity)
        for t in j..<count { tail[t - j] = r[t] }
        var e = exp(shift.addingProduct(tail, s))
        for t in (count - j)..<16 { e[t] = 0 }
        for t in j..<count { r[t] = e[t - j] }
        sum += e
      }
      let inverse = SIMD16<Float>(repeating: 1 / sum.sum())
      j = 0
      while j < vectorEnd {
        store16(load16(r + j) * inverse, r + j)
        j += 16
      }
      while j < count {
        r[j] *= inverse[0]
        j += 1
      }
    }
  }

  // MARK: helpers

  @inline(__always)
  static func map(_ buffer: UnsafeMutableBufferPointer<Float>, _ f: (SIMD16<Float>) -> SIMD16<Float>) {
    guard let p = buffer.baseAddress else { return }
    let n = buffer.count
    var i = 0
    while i + 16 <= n {
      store16(f(load16(p + i)), p + i)
      i += 16
    }
    if i < n {
      var tail = SIMD16<Float>()
      for t in i..<n { tail[t - i] = p[t] }
      let y = f(tail)
      for t in i..<n { p[t] = y[t - i] }
    }
  }
}

/// Loads 16 consecutive floats (no alignment required).
@inline(__always)
package func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
package func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Stores 16 consecutive floats (no alignment required).
@inline(__always)
package func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}
