internal import CBLAS
import Foundation
import TomeCore

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

extension BLAS {
  /// The kernel set OpenBLAS chose when it loaded, e.g. "Haswell", "SkylakeX", "Prescott".
  ///
  /// A DYNAMIC_ARCH build picks it from CPUID at load time, or from `OPENBLAS_CORETYPE` when
  /// that is set; it cannot be changed afterwards in the same process.
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH … MAX_THREADS=64".
  public static var configuration: String {
    String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces)
  }

  /// How capable an OpenBLAS kernel set is: which vector instructions its sgemm uses.
  public enum CoreClass: Int, Comparable, Sendable {
    /// SSE-era kernels (Prescott, Core2, Nehalem, Atom, Opteron, Barcelona, …).
    case sse = 1
    /// AVX without AVX2 (Sandybridge, Bulldozer family).
    case avx
    /// AVX2 + FMA (Haswell, Zen).
    case avx2
    /// AVX-512 (SkylakeX, Cooperlake, SapphireRapids).
    case avx512

    public static func < (a: CoreClass, b: CoreClass) -> Bool { a.rawValue < b.rawValue }

    /// The class of an OpenBLAS core name, or nil for a name Tome does not know (a core it does
    /// not know is never replaced).
    public init?(core: String) {
      switch core.lowercased() {
      case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "opteron", "opteron_sse3", "barcelona",
        "bobcat", "nano", "katmai", "coppermine", "northwood", "banias", "athlon":
        self = .sse
      case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": self = .avx
      case "haswell", "zen": self = .avx2
      case "skylakex", "cooperlake", "sapphirerapids": self = .avx512
      default: return nil
      }
    }
  }

  /// The OpenBLAS core to ask for on `cpu`, and its class: SkylakeX where AVX-512 (F, BW, VL,
  /// DQ, CD) is usable, Haswell where AVX2 and FMA are, nothing otherwise.
  ///
  /// Measured on an Emerald Rapids Xeon that OpenBLAS 0.3.21 did not recognise (it ran
  /// Prescott): sgemm 2048×1536×384 at 27–31 GFLOP/s, 169 as SkylakeX, 98 as Haswell
  /// (PERFORMANCE.md); on a Zen 5 EPYC it picked Haswell (53–68) where SkylakeX ran 105–122.
  public static func recommendedCore(for cpu: CPUInfo) -> (name: String, coreClass: CoreClass)? {
    if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx2", "fma"].allSatisfy(cpu.has) {
      return ("SkylakeX", .avx512)
    }
    if cpu.has("avx2") && cpu.has("fma") { return ("Haswell", .avx2) }
    return nil
  }

  /// Largest relative error of `sgemm` against a plain double-precision reference, over a few
  /// shapes with odd sizes (edge kernels) and one large enough for the main kernel and
  /// threads. A correct kernel set stays near 1e-6; a broken one is far off or not finite.
  public static func sgemmError() -> Float {
    var generator = SeededGenerator(seed: 0x5eed)
    var worst: Float = 0
    for (m, n, k) in [(67, 45, 53), (5, 1, 7), (192, 160, 128)] {
      let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &generator) }
      let b = (0..<(k * n)).map { _ in Float.random(in: -1..<1, using: &generator) }
      var c = [Float](repeating: .nan, count: m * n)
      c.withUnsafeMutableBufferPointer {
        sgemm(.none, .none, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: $0.baseAddress.unsafelyUnwrapped, ldc: n)
      }
      for i in 0..<m {
        for j in 0..<n {
          var want = 0.0
          var scale = 0.0
          for p in 0..<k {
            want += Double(a[i * k + p]) * Double(b[p * n + j])
            scale += abs(Double(a[i * k + p]) * Double(b[p * n + j]))
          }
          let error = Float(abs(Double(c[i * n + j]) - want) / max(scale, 1e-30))
          worst = max(worst, error.isFinite ? error : .infinity)
        }
      }
    }
    return worst
  }

  /// sgemm throughput in GFLOP/s on encoder-sized operands (2048×1536×384), over about `seconds`.
  public static func measureSgemm(seconds: Double = 1) -> Double {
    let (m, n, k) = (2048, 1536, 384)
    let a = [Float](repeating: 0.25, count: m * k)
    let b = [Float](repeating: 0.5, count: k * n)
    var c = [Float](repeating: 0, count: m * n)
    let clock = ContinuousClock()
    var runs = 0
    let start = clock.now
    repeat {
      c.withUnsafeMutableBufferPointer {
        sgemm(.none, .none, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: $0.baseAddress.unsafelyUnwrapped, ldc: n)
      }
      runs += 1
    } while (clock.now - start) < .seconds(seconds)
    let elapsed = clock.now - start
    let secondsTaken = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return 2.0 * Double(m * n * k * runs) / secondsTaken / 1e9
  }
}
