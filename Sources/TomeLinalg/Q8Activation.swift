/// An activation vector quantised the way llama.cpp quantises it before a Q4/Q8 dot product
/// (`quantize_row_q8_1`: per block of 32, d = max|x|/127, q = round-to-even(x/d)), laid out
/// for the integer kernels.
///
/// The integer kernels multiply 16-bit lanes (`&*` on `SIMD16<Int16>` is one `vpmullw`, 16
/// products per instruction), about twice the work per instruction of the float path. The
/// quantised values are stored permuted to the weights' nibble/byte order so the kernels
/// never shuffle. Reused across calls: `prepare` overwrites it.
///
/// `@unchecked Sendable`: written only by `prepare`, then read concurrently by `MatVec.run`.
public final class Q8Activation: @unchecked Sendable {
  public let capacity: Int
  public private(set) var count = 0
  var blocks: Int { count / 32 }
  /// Per pair of blocks, 4 vectors of 16 lanes in nibble order (see `nibbleElement`).
  let nibbleOrder: UnsafeMutablePointer<Int16>
  /// Per block, 2 vectors of 16 lanes: even elements, then odd elements.
  let byteOrder: UnsafeMutablePointer<Int16>
  /// f16-rounded d per block.
  let scales: UnsafeMutablePointer<Float>
  /// f16(d·Σq) per block (Q4_1's min term).
  let sums: UnsafeMutablePointer<Float>
  /// d·Σq per block, exact (Q4_0's −8 offset).
  let exactSums: UnsafeMutablePointer<Float>
  /// q·d as floats (for formats without an integer kernel).
  public let rounded: UnsafeMutablePointer<Float>

  public init(capacity: Int) {
    let c = (capacity + 63) / 64 * 64
    self.capacity = c
    nibbleOrder = .allocate(capacity: c)
    byteOrder = .allocate(capacity: c)
    scales = .allocate(capacity: c / 32)
    sums = .allocate(capacity: c / 32)
    exactSums = .allocate(capacity: c / 32)
    rounded = .allocate(capacity: c)
  }

  deinit {
    nibbleOrder.deallocate()
    byteOrder.deallocate()
    scales.deallocate()
    sums.deallocate()
    exactSums.deallocate()
    rounded.deallocate()
  }

  /// Element of a block that lane `i` (0…7) of nibble vector `k` (0…3) multiplies: byte 2i
  /// or 2i+1 of the block's 16 quant bytes, low or high nibble.
  @inline(__always)
  static func nibbleElement(k: Int, lane i: Int) -> Int { 2 * i + (k & 2 != 0 ? 1 : 0) + (k & 1 != 0 ? 16 : 0) }

  /// Quantises `n` floats of `x` (`n` a multiple of 32, at most `capacity`).
  public func prepare(_ x: UnsafePointer<Float>, count n: Int) {
    precondition(n % 32 == 0 && n <= capacity, "Q8 activation of \(n) floats (capacity \(capacity))")
    count = n
    let blocks = n / 32
    var q = [Int16](repeating: 0, count: 32)
    for b in 0..<blocks {
      let xb = x + 32 * b
      let a0 = UnsafeRawPointer(xb).loadUnaligned(as: SIMD16<Float>.self)
      let a1 = UnsafeRawPointer(xb + 16).loadUnaligned(as: SIMD16<Float>.self)
      let m0 = a0.replacing(with: -a0, where: a0 .< 0)
      let m1 = a1.replacing(with: -a1, where: a1 .< 0)
      let amax = max(m0.max(), m1.max())
      let d = amax / 127
      let id: Float = d != 0 ? 1 / d : 0
      let magic = SIMD16<Float>(repeating: 12_582_912), idv = SIMD16<Float>(repeating: id)
      var q0 = (a0 * idv + magic) - magic
      var q1 = (a1 * idv + magic) - magic
      var dh = Float(Float16(d))
      // A NaN or infinite input (damaged weights) must not trap in the Int16 conversion
      // below: the block becomes zeros with a NaN scale, so the NaN reaches the logits,
      // where the caller can see it (issue 11).
      if any(q0 .!= q0) || any(q1 .!= q1) {
        q0 = .zero
        q1 = .zero
        dh = .nan
      }
      let total = (q0 + q1).sum()
      scales[b] = dh
      sums[b] = dh.isNaN ? .nan : Float(Float16(d * total))
      exactSums[b] = dh * total
      let dv = SIMD16<Float>(repeating: dh)
      UnsafeMutableRawPointer(rounded + 32 * b).storeBytes(of: q0 * dv, as: SIMD16<Float>.self)
      UnsafeMutableRawPointer(rounded + 32 * b + 16).storeBytes(of: q1 * dv, as: SIMD16<Float>.self)
      for i in 0..<16 {
        q[i] = Int16(q0[i])
        q[i + 16] = Int16(q1[i])
      }
      // Byte order: lane i of vector 0 = element 2i, of vector 1 = element 2i+1.
      let bo = byteOrder + 32 * b
      for i in 0..<16 {
        bo[i] = q[2 * i]
        bo[16 + i] = q[2 * i + 1]
      }
      // Nibble order: pair p = b/2, half = b%2 → lanes 8·half…8·half+7 of vectors k.
      let no = nibbleOrder + 64 * (b / 2)
      let half = b % 2
      for k in 0..<4 {
        for i in 0..<8 { no[16 * k + 8 * half + i] = q[Self.nibbleElement(k: k, lane: i)] }
      }
    }
    if blocks % 2 == 1 {
      let no = nibbleOrder + 64 * (blocks / 2)
      for k in 0..<4 {
        for i in 0..<8 { no[16 * k + 8 + i] = 0 }
      }
    }
  }
}

extension Quantized {
  @inline(__always)
  static func loadI16(_ p: UnsafePointer<Int16>) -> SIMD16<Int16> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int16>.self)
  }

  /// Σ_b d_w·d_x·Σ n·q over 4-bit rows (n unsigned 0…15), with 16-bit integer products.
  @inline(__always)
  static func nibbleDotI16(
    _ row: UnsafeRawPointer, blockBytes: Int, quantOffset: Int, _ a: Q8Activation, blocks: Int
  ) -> Float {
    var acc = SIMD8<Float>()
    let mask = SIMD16<UInt16>(repeating: 0x0F)
    let magic = SIMD8<Int32>(repeating: 0x4B40_0000)
    let pairs = (blocks + 1) / 2
    let xs = a.nibbleOrder
    let sc = a.scales
    for pair in 0..<pairs {
      let b0 = 2 * pair
      let b1 = min(b0 + 1, blocks - 1)
      let p0 = row + blockBytes * b0
      let p1 = row + blockBytes * b1
      let v = SIMD16<UInt16>(
        lowHalf: p0.loadUnaligned(fromByteOffset: quantOffset, as: SIMD8<UInt16>.self),
        highHalf: p1.loadUnaligned(fromByteOffset: quantOffset, as: SIMD8<UInt16>.self))
      let xb = xs + 64 * pair
      let n0 = unsafeBitCast(v & mask, to: SIMD16<Int16>.self)
      let n1 = unsafeBitCast((v &>> 4) & mask, to: SIMD16<Int16>.self)
      let n2 = unsafeBitCast((v &>> 8) & mask, to: SIMD16<Int16>.self)
      let n3 = unsafeBitCast(v &>> 12, to: SIMD16<Int16>.self)
      var s = n0 &* loadI16(xb)
      s &+= n1 &* loadI16(xb + 16)
      s &+= n2 &* loadI16(xb + 32)
      s &+= n3 &* loadI16(xb + 48)
      // Widen pairs of 16-bit lanes to 32 bits (sign-extending) and add them.
      let w = unsafeBitCast(s, to: SIMD8<Int32>.self)
      let s32 = ((w &<< 16) &>> 16) &+ (w &>> 16)
      let f = unsafeBitCast(s32 &+ magic, to: SIMD8<Float>.self) - SIMD8<Float>(repeating: 12_582_912)
      let d0 = half(p0, 0) * sc[b0]
      let d1 = b0 + 1 < blocks ? half(p1, 0) * sc[b0 + 1] : 0
      acc.addProduct(f, SIMD8(lowHalf: SIMD4(repeating: d0), highHalf: SIMD4(repeating: d1)))
    }
    return acc.sum()
  }

  /// Two Q4_1 rows at once: the activation loads and widening constants are shared.
  ///
  /// Each pair of blocks also reads both blocks' (d, m) headers with one f16→f32 vector
  /// conversion and scales them by the activation's (d_x, Σ_x) in one multiply, so the min
  /// term rides along in the main loop instead of a second pass of scalar conversions.
  @inline(__always)
  static func dotQ4_1x2(_ r0: UnsafeRawPointer, _ r1: UnsafeRawPointer, _ a: Q8Activation, blocks: Int) -> (Float, Float) {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    // Lanes 1 and 3 gather m·Σ_x; lanes 0 and 2 are the d products, summed and ignored.
    var mins0 = SIMD4<Float>(), mins1 = SIMD4<Float>()
    let mask = SIMD16<UInt16>(repeating: 0x0F)
    let magic = SIMD8<Int32>(repeating: 0x4B40_0000)
    let pairs = (blocks + 1) / 2
    let xs = a.nibbleOrder
    let sc = a.scales
    let sums = a.sums
    @inline(__always) func partial(_ row: UnsafeRawPointer, _ b0: Int, _ b1: Int, _ x0: SIMD16<Int16>, _ x1: SIMD16<Int16>,
      _ x2: SIMD16<Int16>, _ x3: SIMD16<Int16>) -> SIMD8<Float> {
      let v = SIMD16<UInt16>(
        lowHalf: row.loadUnaligned(fromByteOffset: 20 * b0 + 4, as: SIMD8<UInt16>.self),
        highHalf: row.loadUnaligned(fromByteOffset: 20 * b1 + 4, as: SIMD8<UInt16>.self))
      var s = unsafeBitCast(v & mask, to: SIMD16<Int16>.self) &* x0
      s &+= unsafeBitCast((v &>> 4) & mask, to: SIMD16<Int16>.self) &* x1
      s &+= unsafeBitCast((v &>> 8) & mask, to: SIMD16<Int16>.self) &* x2
      s &+= unsafeBitCast(v &>> 12, to: SIMD16<Int16>.self) &* x3
      let w = unsafeBitCast(s, to: SIMD8<Int32>.self)
      let s32 = ((w &<< 16) &>> 16) &+ (w &>> 16)
      return unsafeBitCast(s32 &+ magic, to: SIMD8<Float>.self) - SIMD8<Float>(repeating: 12_582_912)
    }
    /// (d, m) of blocks b0 and b1 as floats: [d0, m0, d1, m1].
    @inline(__always) func headers(_ row: UnsafeRawPointer, _ b0: Int, _ b1: Int) -> SIMD4<Float> {
      SIMD4<Float>(SIMD4<Float16>(
        lowHalf: row.loadUnaligned(fromByteOffset: 20 * b0, as: SIMD2<Float16>.self),
        highHalf: row.loadUnaligned(fromByteOffset: 20 * b1, as: SIMD2<Float16>.self)))
    }
    for pair in 0..<pairs {
      let b0 = 2 * pair
      let b1 = min(b0 + 1, blocks - 1)
      let xb = xs + 64 * pair
      let x0 = loadI16(xb), x1 = loadI16(xb + 16), x2 = loadI16(xb + 32), x3 = loadI16(xb + 48)
      // The second block of an odd tail repeats the first; its activation factors are zero.
      let second = b0 + 1 < blocks
      let factors = SIMD4<Float>(sc[b0], sums[b0], second ? sc[b0 + 1] : 0, second ? sums[b0 + 1] : 0)
      let h0 = headers(r0, b0, b1) * factors
      acc0.addProduct(partial(r0, b0, b1, x0, x1, x2, x3), SIMD8(lowHalf: SIMD4(repeating: h0[0]), highHalf: SIMD4(repeating: h0[2])))
      mins0 += h0
      let h1 = headers(r1, b0, b1) * factors
      acc1.addProduct(partial(r1, b0, b1, x0, x1, x2, x3), SIMD8(lowHalf: SIMD4(repeating: h1[0]), highHalf: SIMD4(repeating: h1[2])))
      mins1 += h1
    }
    return (acc0.sum() + (mins0[1] + mins0[3]), acc1.sum() + (mins1[1] + mins1[3]))
  }

  @inline(__always)
  static func dotQ4_1(_ row: UnsafeRawPointer, _ a: Q8Activation, blocks: Int) -> Float {
    var mins: Float = 0
    for b in 0..<blocks { mins += half(row + 20 * b, 2) * a.sums[b] }
    return nibbleDotI16(row, blockBytes: 20, quantOffset: 4, a, blocks: blocks) + mins
  }

  @inline(__always)
  static func dotQ4_0(_ row: UnsafeRawPointer, _ a: Q8Activation, blocks: Int) -> Float {
    var offs: Float = 0
    for b in 0..<blocks { offs += 8 * half(row + 18 * b, 0) * a.exactSums[b] }
    return nibbleDotI16(row, blockBytes: 18, quantOffset: 2, a, blocks: blocks) - offs
  }

  /// Σ_b d_w·d_x·Σ w·q over Q8_0 rows, with 16-bit integer products (two per lane before
  /// widening, so |sum| ≤ 2·127² fits).
  @inline(__always)
  static func dotQ8_0(_ row: UnsafeRawPointer, _ a: Q8Activation, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    let magic = SIMD8<Int32>(repeating: 0x4B40_0000)
    let xs = a.byteOrder
    let sc = a.scales
    for b in 0..<blocks {
      let p = row + 34 * b
      let v = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int16>.self)
      let lo = (v &<< 8) &>> 8
      let hi = v &>> 8
      let xb = xs + 32 * b
      let s = lo &* loadI16(xb) &+ hi &* loadI16(xb + 16)
      let w = unsafeBitCast(s, to: SIMD8<Int32>.self)
      let s32 = ((w &<< 16) &>> 16) &+ (w &>> 16)
      let f = unsafeBitCast(s32 &+ magic, to: SIMD8<Float>.self) - SIMD8<Float>(repeating: 12_582_912)
      acc.addProduct(f, SIMD8(repeating: half(p, 0) * sc[b]))
    }
    return acc.sum()
  }
}
