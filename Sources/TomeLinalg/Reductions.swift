internal import CTomeKernels

/// Row reductions on row-major matrices: LayerNorm, L2 normalisation, sums.
///
/// The sums run over 16-lane accumulators in CTomeKernels (a scalar Swift `for` loop is never
/// vectorised: strict floating-point order, PERFORMANCE.md).
public enum Reductions {
  /// Sum of `count` contiguous floats.
  /// - Complexity: O(count).
  public static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float { tk_sum(p, count) }

  /// Sum of squares of `count` contiguous floats.
  /// - Complexity: O(count).
  public static func sumOfSquares(_ p: UnsafePointer<Float>, count: Int) -> Float { tk_sum_of_squares(p, count) }

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
    tk_layer_norm(xp, x.count / columns, gp, bp, columns, epsilon)
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
    for row in 0..<(residual.count / columns) {
      tk_add3(sp + row * columns, bp, rp + row * columns, columns)
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
      tk_scale(r, 1 / norm, columns)
    }
  }

  /// Adds `source` to `destination` element-wise (`count` floats).
  /// - Complexity: O(count).
  public static func add(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
    tk_add(source, destination, count)
  }
}
