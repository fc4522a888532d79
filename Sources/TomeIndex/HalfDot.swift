import TomeLinalg

/// The one distance kernel of the graph indexes: the inner product of a float query with a
/// half-float stored row. Graph search spends most of its time here: the beam scores each
/// expanded node's neighbours with `dots` (one call per expansion, rows prefetched), the
/// greedy descent and neighbour selection call `dot`. The loop is CTomeKernels' `dot_f32_f16`,
/// whose AVX2 and AVX-512 copies widen the half floats with one F16C instruction per 8 lanes.
enum HalfDot {
  /// Σ q[i] · row[i] over `count` elements.
  @inline(__always)
  static func dot(_ q: UnsafePointer<Float>, _ row: UnsafePointer<Float16>, count: Int) -> Float {
    Quantized.dotHalf(q, row, count)
  }

  /// `dot` of `q` with each of `rows` (slots of the row-major matrix at `base`), into `out`.
  @inline(__always)
  static func dots(
    _ q: UnsafePointer<Float>, base: UnsafePointer<Float16>, dimension: Int, rows: UnsafePointer<UInt32>, rowCount: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    Quantized.dotHalfRows(q, base, dimension, rows: rows, count: rowCount, into: out)
  }

  /// Widens a stored row to floats (a base vector used as the query of a build step).
  @inline(__always)
  static func widen(_ row: UnsafePointer<Float16>, into out: UnsafeMutablePointer<Float>, count: Int) {
    Quantized.fromHalf(row, out, count: count)
  }
}
