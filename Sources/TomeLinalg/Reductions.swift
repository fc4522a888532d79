/// Row reductions on row-major matrices: LayerNorm, L2 normalisation, sums.
///
/// Sums run over `SIMD16<Float>` accumulators, so they vectorise (a scalar `for` loop does not:
/// strict floating-point order, PERFORMANCE.md).
public enum Reductions {
  /// Sum of `count` contiguous floats.
  /// - Complexity: O(count).
  @inline(__always)
  public static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
      acc += load16(p + i)
      i += 16
    }
    var s = acc.sum()
    while i < count {
      s += p[i]
      i += 1
    }
    return s
  }

  /// Sum of squares of `count` contiguous floats.
  /// - Complexity: O(count).
  @inline(__always)
  public static func sumOfSquares(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
      let v = load16(p + i)
      acc = acc.addingProduct(v, v)
      i += 16
    }
    var s = acc.sum()
    while i < count {
      s += p[i] * p[i]
      i += 1
    }
    return s
  }

  /// LayerNorm of each row in place: y = (x − mean) / √(var + eps) · gamma + beta, with the
  /// biased (population) variance, as PyTorch's `nn.LayerNorm`.
  ///
  /// - Parameters:
  ///   - x: `rows × gamma.count` row-major values.
  ///   - gamma, beta: per-column scale and shift, of equal length.
  ///   - epsilon: added to the variance.
  /// - Complexity: O(n).
  public static func layerNorm(
    _ x: UnsafeMutableBufferPointer<Float>, gamma: UnsafeBufferPointer<Float>,
    beta: UnsafeBufferPointer<Float>, epsilon: Float
  ) {
    let columns = gamma.count
    precondition(columns > 0 && beta.count == columns && x.count % columns == 0, "LayerNorm shape mismatch")
    guard let xp = x.baseAddress, let gp = gamma.baseAddress, let bp = beta.baseAddress else { return }
    let rows = x.count / columns
    let vectorEnd = columns & ~15
    let inverseCount = 1 / Float(columns)
    for row in 0..<rows {
      let r = xp + row * columns
      let mean = sum(r, count: columns) * inverseCount
      let m = SIMD16<Float>(repeating: mean)
      var acc = SIMD16<Float>()
      var j = 0
      while j < vectorEnd {
        let d = load16(r + j) - m
        acc = acc.addingProduct(d, d)
        j += 16
      }
      var variance = acc.sum()
      while j < columns {
        let d = r[j] - mean
        variance += d * d
        j += 1
      }
      variance *= inverseCount
      let inv = 1 / (variance + epsilon).squareRoot()
      let s = SIMD16<Float>(repeating: inv)
      j = 0
      while j < vectorEnd {
        let y = (load16(r + j) - m) * s
        store16(load16(bp + j).addingProduct(y, load16(gp + j)), r + j)
        j += 16
      }
      while j < columns {
        r[j] = (r[j] - mean) * inv * gp[j] + bp[j]
        j += 1
      }
    }
  }

  /// The post-norm residual step of a transformer: `residual = LayerNorm(sublayer + residual + bias)`,
  /// row by row; `sublayer` is left as scratch.
  ///
  /// - Parameters:
  ///   - sublayer: the sub-layer's output, `rows × bias.count`.
  ///   - residual: the block input, same shape; receives the result.
  ///   - bias: the sub-layer's bias, one value per column.
  ///   - gamma, beta, epsilon: the LayerNorm parameters.
  /// - Complexity: O(n).
  public static func addBiasResidualLayerNorm(
    _ sublayer: UnsafeMutableBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>,
    bias: UnsafeBufferPointer<Float>, gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>,
    epsilon: Float
  ) {
    let columns = bias.count
    precondition(sublayer.count == residual.count && residual.count % columns == 0, "residual shape mismatch")
    guard let sp = sublayer.baseAddress, let rp = residual.baseAddress, let bp = bias.baseAddress else { return }
    let rows = residual.count / columns
    for row in 0..<rows {
      let s = sp + row * columns
      let r = rp + row * columns
      var j = 0
      while j + 16 <= columns {
        store16(load16(s + j) + load16(r + j) + load16(bp + j), r + j)
        j += 16
      }
      while j < columns {
        r[j] = s[j] + r[j] + bp[j]
        j += 1
      }
    }
    layerNorm(residual, gamma: gamma, beta: beta, epsilon: epsilon)
  }

  /// Scales each row of a row-major `rows × columns` matrix to unit L2 norm, in place.
  /// A zero row stays zero.
  /// - Complexity: O(n).
  public static func normalizeRows(_ x: UnsafeMutableBufferPointer<Float>, columns: Int) {
    precondition(columns > 0 && x.count % columns == 0, "normalize shape mismatch")
    guard let xp = x.baseAddress else { return }
    for row in 0..<(x.count / columns) {
      let r = xp + row * columns
      let norm = sumOfSquares(r, count: columns).squareRoot()
      guard norm > 0 else { continue }
      let inv = 1 / norm
      for j in 0..<columns { r[j] *= inv }
    }
  }

  /// Adds `source` to `destination` element-wise (`count` floats).
  /// - Complexity: O(count).
  @inline(__always)
  public static func add(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
      store16(load16(destination + i) + load16(source + i), destination + i)
      i += 16
    }
    while i < count {
      destination[i] += source[i]
      i += 1
    }
  }
}
