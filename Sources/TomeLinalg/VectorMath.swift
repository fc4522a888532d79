internal import CTomeKernels

/// Element-wise kernels for transformer layers on contiguous `Float` buffers, run by
/// CTomeKernels in the copy that matches the CPU (`SIMDPath`). Exponentials use a Cephes-style
/// polynomial: glibc `expf` costs ~3 ns per element here, ten times more (PERFORMANCE.md).
public enum VectorMath {
  /// `out = x / rms(x) * weight`, rms with `epsilon` (RMSNorm; the sum of squares in double).
  public static func rmsNorm(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float, count n: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    tk_rms_norm(x, weight, epsilon, n, out)
  }

  /// In-place softmax of `n` values (maximum subtracted first); the values sum to 1.
  public static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) { tk_softmax(x, n) }

  /// `gate[i] = silu(gate[i]) * up[i]` (SwiGLU).
  public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    tk_swiglu(gate, up, n)
  }

  /// `y += x` over `n` floats.
  public static func add(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count n: Int) { tk_add(x, y, n) }

  /// `y += a · x` over `n` floats.
  public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
    tk_axpy(a, x, y, n)
  }

  /// `x *= a` over `n` floats.
  public static func scale(_ x: UnsafeMutablePointer<Float>, by a: Float, count n: Int) { tk_scale(x, a, n) }
}
