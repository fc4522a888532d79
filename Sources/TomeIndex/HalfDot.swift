/// The one distance kernel of the graph indexes: the inner product of a float query with a
/// half-float stored row.
///
/// Graph search spends most of its time here (one call per visited node), so it is kept alone in
/// this file to be swapped for a C kernel with run-time CPU dispatch when TomeLinalg grows one.
/// It uses plain SIMD multiply and add, not `addProduct`: without a target CPU the fused form
/// turns into one libm `fmaf` call per lane (PERFORMANCE.md), while `a * b + c` stays vector code
/// on any x86-64. The f16→f32 widening is a single instruction only where the compiler may use
/// F16C; that, too, is the C kernel's job to guarantee.
enum HalfDot {
  /// Σ q[i] · row[i] over `count` elements.
  @inline(__always)
  static func dot(_ q: UnsafePointer<Float>, _ row: UnsafePointer<Float16>, count: Int) -> Float {
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
    var i = 0
    while i + 32 <= count {
      let r0 = SIMD16<Float>(UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float16>.self))
      let r1 = SIMD16<Float>(UnsafeRawPointer(row + i + 16).loadUnaligned(as: SIMD16<Float16>.self))
      a0 = a0 + UnsafeRawPointer(q + i).loadUnaligned(as: SIMD16<Float>.self) * r0
      a1 = a1 + UnsafeRawPointer(q + i + 16).loadUnaligned(as: SIMD16<Float>.self) * r1
      i += 32
    }
    if i + 16 <= count {
      let r0 = SIMD16<Float>(UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float16>.self))
      a0 = a0 + UnsafeRawPointer(q + i).loadUnaligned(as: SIMD16<Float>.self) * r0
      i += 16
    }
    var s = (a0 + a1).sum()
    while i < count {
      s += q[i] * Float(row[i])
      i += 1
    }
    return s
  }

  /// Widens a stored row to floats (a base vector used as the query of a build step).
  @inline(__always)
  static func widen(_ row: UnsafePointer<Float16>, into out: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
      UnsafeMutableRawPointer(out + i).storeBytes(
        of: SIMD16<Float>(UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float16>.self)), as: SIMD16<Float>.self)
      i += 16
    }
    while i < count {
      out[i] = Float(row[i])
      i += 1
    }
  }
}
