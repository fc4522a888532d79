internal import CBLAS

/// Thin, typed wrappers over OpenBLAS. The only module that imports CBLAS, and so the only
/// place that sets its thread count (ARCHITECTURE.md, "Concurrency and compute on 2 cores").
public enum BLAS {
  /// Whether an operand is used as stored or transposed.
  public enum Transpose: Sendable {
    case none, transposed
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
  }

  /// Sets how many threads OpenBLAS may use. Call once at start-up (the compute policy):
  /// either BLAS threads over a batched GEMM, or one BLAS thread per Swift task, never both.
  public static func setThreadCount(_ n: Int) {
    precondition(n >= 1, "thread count must be at least 1")
    openblas_set_num_threads(Int32(n))
  }

  /// The thread count OpenBLAS is using now.
  public static var threadCount: Int { Int(openblas_get_num_threads()) }

  /// C = alpha · op(A) · op(B) + beta · C, row-major.
  ///
  /// - Parameters:
  ///   - m, n, k: op(A) is m×k, op(B) is k×n, C is m×n.
  ///   - a, lda: A and its row stride (columns of A as stored).
  ///   - b, ldb: B and its row stride.
  ///   - c, ldc: C and its row stride.
  /// - Complexity: O(m·n·k).
  public static func sgemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM shape")
    cblas_sgemm(
      CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k),
      alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// y = alpha · op(A) · x + beta · y, row-major A of m×n.
  /// - Complexity: O(m·n).
  public static func sgemv(
    _ trans: Transpose, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
  ) {
    cblas_sgemv(CblasRowMajor, trans.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
  }

  /// Dot product of two contiguous vectors of `count` floats.
  public static func sdot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(Int32(count), x, 1, y, 1)
  }
}
