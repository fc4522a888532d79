/// Float dot kernels for Q4_K rows (the bulk of the common Q4_K_M files), in the permuted-
/// activation style of the Q4_0/Q4_1 float kernels: 32 quant bytes are read as 8 × UInt32
/// lanes and shifted by 8k (low nibble) or 8k+4 (high nibble), so lane i of step k holds
/// element 4i+k of the sub-block; the activations are permuted once per call to match.
extension Quantized {
  /// Activations reordered for `dotQ4K`: per 64-element group, 4 vectors of 8 for the low
  /// sub-block, then 4 for the high one.
  static func permuteForQ4K(_ x: UnsafePointer<Float>, count: Int, into xp: UnsafeMutablePointer<Float>) {
    for g in 0..<(count / 64) {
      for half in 0..<2 {
        for k in 0..<4 {
          for i in 0..<8 { xp[64 * g + 32 * half + 8 * k + i] = x[64 * g + 32 * half + 4 * i + k] }
        }
      }
    }
  }

  @inline(__always)
  static func dotQ4K(_ row: UnsafeRawPointer, _ xp: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    var mins: Float = 0
    let mask = SIMD8<UInt32>(repeating: 0x0F)
    let magic = SIMD8<UInt32>(repeating: 0x4B00_0000)
    let offset = SIMD8<Float>(repeating: 8_388_608)
    for b in 0..<blocks {
      let p = row + 144 * b
      let d = half(p, 0)
      let dmin = half(p, 2)
      for j in 0..<4 {
        let (sc1, m1) = scaleMinK4(2 * j, p + 4)
        let (sc2, m2) = scaleMinK4(2 * j + 1, p + 4)
        let v = p.loadUnaligned(fromByteOffset: 16 + 32 * j, as: SIMD8<UInt32>.self)
        let xb = xp + 256 * b + 64 * j
        var tl = SIMD8<Float>(), th = SIMD8<Float>()
        for k in 0..<4 {
          let lo = ((v &>> SIMD8<UInt32>(repeating: UInt32(8 * k))) & mask) | magic
          let hi = ((v &>> SIMD8<UInt32>(repeating: UInt32(8 * k + 4))) & mask) | magic
          tl.addProduct(unsafeBitCast(lo, to: SIMD8<Float>.self) - offset, load8(xb + 8 * k))
          th.addProduct(unsafeBitCast(hi, to: SIMD8<Float>.self) - offset, load8(xb + 32 + 8 * k))
        }
        acc.addProduct(tl, SIMD8(repeating: d * Float(sc1)))
        acc.addProduct(th, SIMD8(repeating: d * Float(sc2)))
        mins += dmin * (Float(m1) * sums[8 * b + 2 * j] + Float(m2) * sums[8 * b + 2 * j + 1])
      }
    }
    return acc.sum() - mins
  }
}

extension Quantized {
  /// Q6_K rows against activations permuted by `permuteForQ4K` (the same order per 32
  /// elements): ql bytes give the low 4 bits, qh the high 2, values are q − 32, and each 16
  /// elements have their own int8 scale (lanes 0–3 and 4–7 of a vector differ).
  @inline(__always)
  static func dotQ6K(_ row: UnsafeRawPointer, _ xp: UnsafePointer<Float>, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    let m4 = SIMD8<UInt32>(repeating: 0x0F), m2 = SIMD8<UInt32>(repeating: 0x03)
    let magic = SIMD8<UInt32>(repeating: 0x4B00_0000)
    let offset = SIMD8<Float>(repeating: 8_388_608 + 32)
    @inline(__always) func shr(_ v: SIMD8<UInt32>, _ n: Int) -> SIMD8<UInt32> { v &>> SIMD8<UInt32>(repeating: UInt32(n)) }
    @inline(__always) func f(_ q: SIMD8<UInt32>) -> SIMD8<Float> { unsafeBitCast(q | magic, to: SIMD8<Float>.self) - offset }
    for b in 0..<blocks {
      let p = row + 210 * b
      let d = half(p, 208)
      for n in 0..<2 {
        let a = p.loadUnaligned(fromByteOffset: 64 * n, as: SIMD8<UInt32>.self)
        let c = p.loadUnaligned(fromByteOffset: 64 * n + 32, as: SIMD8<UInt32>.self)
        let h = p.loadUnaligned(fromByteOffset: 128 + 32 * n, as: SIMD8<UInt32>.self)
        let xb = xp + 256 * b + 128 * n
        var t1 = SIMD8<Float>(), t2 = SIMD8<Float>(), t3 = SIMD8<Float>(), t4 = SIMD8<Float>()
        for k in 0..<4 {
          let s = 8 * k
          let q1 = (shr(a, s) & m4) | ((shr(h, s) & m2) &<< SIMD8<UInt32>(repeating: 4))
          let q2 = (shr(c, s) & m4) | ((shr(h, s + 2) & m2) &<< SIMD8<UInt32>(repeating: 4))
          let q3 = (shr(a, s + 4) & m4) | ((shr(h, s + 4) & m2) &<< SIMD8<UInt32>(repeating: 4))
          let q4 = (shr(c, s + 4) & m4) | ((shr(h, s + 6) & m2) &<< SIMD8<UInt32>(repeating: 4))
          t1.addProduct(f(q1), load8(xb + 8 * k))
          t2.addProduct(f(q2), load8(xb + 32 + 8 * k))
          t3.addProduct(f(q3), load8(xb + 64 + 8 * k))
          t4.addProduct(f(q4), load8(xb + 96 + 8 * k))
        }
        func sc(_ i: Int) -> Float { d * Float(p.load(fromByteOffset: 192 + 8 * n + i, as: Int8.self)) }
        acc.addProduct(t1, SIMD8(lowHalf: SIMD4(repeating: sc(0)), highHalf: SIMD4(repeating: sc(1))))
        acc.addProduct(t2, SIMD8(lowHalf: SIMD4(repeating: sc(2)), highHalf: SIMD4(repeating: sc(3))))
        acc.addProduct(t3, SIMD8(lowHalf: SIMD4(repeating: sc(4)), highHalf: SIMD4(repeating: sc(5))))
        acc.addProduct(t4, SIMD8(lowHalf: SIMD4(repeating: sc(6)), highHalf: SIMD4(repeating: sc(7))))
      }
    }
    return acc.sum()
  }
}
