internal import CTomeKernels

/// Vectorised element-wise kernels for the encoder: exp, erf, GELU and row softmax.
///
/// The work happens in CTomeKernels (polynomial exp and a rational erf, well under 1 ns per
/// element against glibc's 3 and 15 ns), in the copy that matches the CPU (`SIMDPath`).
public enum Activations {
  /// e^x for each element of a buffer, in place (Cephes polynomial; inputs clamped to
  /// [-87.3, 88.3], so results are finite normal floats; ~2 ulp).
  /// - Complexity: O(n).
  public static func exp(_ buffer: UnsafeMutableBufferPointer<Float>) {
    guard let p = buffer.baseAddress else { return }
    tk_exp(p, buffer.count)
  }

  /// erf for each element of a buffer, in place (max absolute error ~4·10⁻⁷; ±1 beyond ±4).
  /// - Complexity: O(n).
  public static func erf(_ buffer: UnsafeMutableBufferPointer<Float>) {
    guard let p = buffer.baseAddress else { return }
    tk_erf(p, buffer.count)
  }

  /// Adds `bias` to every row of a row-major `rows × bias.count` matrix and applies GELU
  /// (exact erf form, 0.5·x·(1 + erf(x/√2))), in place.
  ///
  /// - Parameters:
  ///   - x: the matrix; its count must be a multiple of `bias.count`.
  ///   - bias: one value per column.
  /// - Complexity: O(n).
  public static func biasGELU(_ x: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>) {
    let columns = bias.count
    precondition(columns > 0 && x.count % columns == 0, "bias of \(columns) for \(x.count) values")
    guard let xp = x.baseAddress, let bp = bias.baseAddress else { return }
    tk_bias_gelu(xp, x.count / columns, bp, columns)
  }

  /// Softmax of each row of a row-major matrix, in place: `rows` rows of `count` values, with
  /// rows `stride` floats apart. Values are multiplied by `scale` first (the attention logit
  /// scale), and the maximum is subtracted before exponentiation.
  /// - Complexity: O(rows · count).
  public static func softmaxRows(
    _ base: UnsafeMutablePointer<Float>, rows: Int, count: Int, stride: Int, scale: Float = 1
  ) {
    precondition(count > 0 && stride >= count, "softmax of \(count) values with stride \(stride)")
    tk_softmax_rows(base, rows, count, stride, scale)
  }
}
