/// Dequantisation of GGML block formats and quantised matrix–vector products.
///
/// Layouts follow ggml (`ggml-common.h`): each row is a run of blocks; `f16` scales are IEEE
/// half floats. Integer→float conversion uses the 2²³ magic-number trick, because Swift's
/// generic SIMD int→float conversion does not vectorise (PERFORMANCE.md).
public enum Quantized {
  /// Writes `count` floats decoded from `source` (stored as `type`) to `destination`.
  /// `count` must be a multiple of `type.blockSize`.
  public static func dequantize(
    _ type: GGMLType, _ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>
  ) {
    precondition(count % type.blockSize == 0, "\(count) elements is not a whole number of \(type) blocks")
    let blocks = count / type.blockSize
    let bpb = type.bytesPerBlock
    switch type {
    case .f32:
      destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
    case .f16:
      for i in 0..<count { destination[i] = half(source, 2 * i) }
    case .bf16:
      for i in 0..<count {
        destination[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
      }
    case .q4_0:
      for b in 0..<blocks {
        let p = source + b * bpb
        let d = half(p, 0)
        let q = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        let y = destination + b * 32
        store(y, (smallToFloat(q & 0x0F) - SIMD16(repeating: 8)) * SIMD16(repeating: d))
        store(y + 16, (smallToFloat(q &>> 4) - SIMD16(repeating: 8)) * SIMD16(repeating: d))
      }
    case .q4_1:
      for b in 0..<blocks {
        let p = source + b * bpb
        let d = half(p, 0)
        let m = half(p, 2)
        let q = p.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
        let y = destination + b * 32
        store(y, smallToFloat(q & 0x0F) * SIMD16(repeating: d) + SIMD16(repeating: m))
        store(y + 16, smallToFloat(q &>> 4) * SIMD16(repeating: d) + SIMD16(repeating: m))
      }
    case .q5_0, .q5_1:
      let hasMin = type == .q5_1
      for b in 0..<blocks {
        let p = source + b * bpb
        let d = half(p, 0)
        let m: Float = hasMin ? half(p, 2) : 0
        let o = hasMin ? 4 : 2
        let qh = p.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian
        let y = destination + b * 32
        for j in 0..<16 {
          let qs = p.load(fromByteOffset: o + 4 + j, as: UInt8.self)
          let xh0 = UInt8(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
          let xh1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
          var x0 = Float((qs & 0x0F) | xh0)
          var x1 = Float((qs >> 4) | xh1)
          if !hasMin {
            x0 -= 16
            x1 -= 16
          }
          y[j] = x0 * d + m
          y[j + 16] = x1 * d + m
        }
      }
    case .q8_0:
      for b in 0..<blocks {
        let p = source + b * bpb
        let d = half(p, 0)
        let y = destination + b * 32
        store(y, int8ToFloat(p.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)) * SIMD16(repeating: d))
        store(y + 16, int8ToFloat(p.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)) * SIMD16(repeating: d))
      }
    case .q4_K:
      for b in 0..<blocks {
        let p = source + b * bpb
        let d = half(p, 0)
        let dmin = half(p, 2)
        let scales = p + 4
        var q = p + 16
        var y = destination + b * 256
        for j in 0..<4 {
          let (sc1, m1) = scaleMinK4(2 * j, scales)
          let (sc2, m2) = scaleMinK4(2 * j + 1, scales)
          let d1 = d * Float(sc1), mm1 = dmin * Float(m1)
          let d2 = d * Float(sc2), mm2 = dmin * Float(m2)
          for l in 0..<32 {
            let v = q.load(fromByteOffset: l, as: UInt8.self)
            y[l] = d1 * Float(v & 0x0F) - mm1
            y[l + 32] = d2 * Float(v >> 4) - mm2
          }
          q += 32
          y += 64
        }
      }
    case .q5_K:
      for b in 0..<blocks {
        let p = source + b * bpb
        let d = half(p, 0)
        let dmin = half(p, 2)
        let scales = p + 4
        let qh = p + 16
        var ql = p + 48
        var y = destination + b * 256
        var u1: UInt8 = 1
        var u2: UInt8 = 2
        for j in 0..<4 {
          let (sc1, m1) = scaleMinK4(2 * j, scales)
          let (sc2, m2) = scaleMinK4(2 * j + 1, scales)
          let d1 = d * Float(sc1), mm1 = dmin * Float(m1)
          let d2 = d * Float(sc2), mm2 = dmin * Float(m2)
          for l in 0..<32 {
            let v = ql.load(fromByteOffset: l, as: UInt8.self)
            let h = qh.load(fromByteOffset: l, as: UInt8.self)
            y[l] = d1 * Float((v & 0x0F) + (h & u1 != 0 ? 16 : 0)) - mm1
            y[l + 32] = d2 * Float((v >> 4) + (h & u2 != 0 ? 16 : 0)) - mm2
          }
          ql += 32
          y += 64
          u1 <<= 2
          u2 <<= 2
        }
      }
    case .q6_K:
      for b in 0..<blocks {
        let p = source + b * bpb
        let d = half(p, 208)
        var ql = p
        var qh = p + 128
        var sc = p + 192
        var y = destination + b * 256
        for _ in 0..<2 {
          for l in 0..<32 {
            let isc = l / 16
            let a = ql.load(fromByteOffset: l, as: UInt8.self)
            let c = ql.load(fromByteOffset: l + 32, as: UInt8.self)
            let h = qh.load(fromByteOffset: l, as: UInt8.self)
            let q1 = Int((a & 0x0F) | ((h & 3) << 4)) - 32
            let q2 = Int((c & 0x0F) | (((h >> 2) & 3) << 4)) - 32
            let q3 = Int((a >> 4) | (((h >> 4) & 3) << 4)) - 32
            let q4 = Int((c >> 4) | (((h >> 6) & 3) << 4)) - 32
            func s(_ k: Int) -> Float { Float(sc.load(fromByteOffset: k, as: Int8.self)) }
            y[l] = d * s(isc) * Float(q1)
            y[l + 32] = d * s(isc + 2) * Float(q2)
            y[l + 64] = d * s(isc + 4) * Float(q3)
            y[l + 96] = d * s(isc + 6) * Float(q4)
          }
          y += 128
          ql += 64
          qh += 32
          sc += 8
        }
      }
    case .q8_1, .q2_K, .q3_K, .q8_K:
      // Not decodable by design (not in the format list): loaders check `canDequantize`
      // and refuse such files with a ModelError naming the tensor, so reaching here is a bug.
      preconditionFailure("\(type) reached dequantize; callers must check canDequantize first")
    }
  }

  /// The 6-bit scale and min of sub-block `j` in a Q4_K/Q5_K `scales[12]` array.
  @inline(__always)
  static func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (UInt8, UInt8) {
    func b(_ i: Int) -> UInt8 { q.load(fromByteOffset: i, as: UInt8.self) }
    if j < 4 { return (b(j) & 63, b(j + 4) & 63) }
    return ((b(j + 4) & 0x0F) | ((b(j - 4) >> 6) << 4), (b(j + 4) >> 4) | ((b(j) >> 6) << 4))
  }

  @inline(__always)
  static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
  }

  @inline(__always)
  static func store(_ p: UnsafeMutablePointer<Float>, _ v: SIMD16<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  /// Unsigned bytes to floats, exactly (byte b → lane b).
  @inline(__always)
  static func smallToFloat(_ v: SIMD16<UInt8>) -> SIMD16<Float> {
    // Spread the 16 bytes over four 4-lane words and pick byte k of each with a shift.
    let w = unsafeBitCast(v, to: SIMD4<UInt32>.self)
    let m = SIMD4<UInt32>(repeating: 0xFF), magic = SIMD4<UInt32>(repeating: 0x4B00_0000)
    let b0 = (w & m) | magic, b1 = ((w &>> 8) & m) | magic
    let b2 = ((w &>> 16) & m) | magic, b3 = (w &>> 24) | magic
    // Lane j of b_k is byte 4j + k; interleave back to byte order.
    let f = SIMD16<UInt32>(
      b0[0], b1[0], b2[0], b3[0], b0[1], b1[1], b2[1], b3[1],
      b0[2], b1[2], b2[2], b3[2], b0[3], b1[3], b2[3], b3[3])
    return unsafeBitCast(f, to: SIMD16<Float>.self) - SIMD16<Float>(repeating: 8_388_608)
  }

  /// Signed bytes to floats, exactly.
  @inline(__always)
  static func int8ToFloat(_ v: SIMD16<Int8>) -> SIMD16<Float> {
    let u = unsafeBitCast(v, to: SIMD16<UInt8>.self) ^ SIMD16<UInt8>(repeating: 0x80)  // b + 128
    return smallToFloat(u) - SIMD16<Float>(repeating: 128)
  }
}

extension Quantized {
  /// Rounds `x` the way llama.cpp quantises activations before a quantised dot product
  /// (`quantize_row_q8_1`): per block of 32, d = max|x|/127, q = round-to-even(x/d), and
  /// writes x̃ = q·f16(d) to `destination` and f16(d·Σq) to `blockSums` (when given).
  ///
  /// Feeding x̃ to the f32 kernels reproduces llama.cpp's integer dot products exactly up to
  /// float summation order, which keeps logits within ~0.01 of llama.cpp's.
  public static func roundLikeQ8(
    _ x: UnsafePointer<Float>, count n: Int, into destination: UnsafeMutablePointer<Float>,
    blockSums: UnsafeMutablePointer<Float>? = nil
  ) {
    precondition(n % 32 == 0, "Q8 activation rounding needs whole blocks of 32")
    for b in 0..<(n / 32) {
      let a0 = load(x + 32 * b), a1 = load(x + 32 * b + 16)
      let m0 = a0.replacing(with: -a0, where: a0 .< 0)
      let m1 = a1.replacing(with: -a1, where: a1 .< 0)
      let amax = max(m0.max(), m1.max())
      let d = amax / 127
      let id: Float = d != 0 ? 1 / d : 0
      let magic = SIMD16<Float>(repeating: 12_582_912), idv = SIMD16<Float>(repeating: id)
      let q0 = (a0 * idv + magic) - magic
      let q1 = (a1 * idv + magic) - magic
      let dh = Float(Float16(d))
      store(destination + 32 * b, q0 * SIMD16(repeating: dh))
      store(destination + 32 * b + 16, q1 * SIMD16(repeating: dh))
      if let blockSums { blockSums[b] = Float(Float16(d * (q0 + q1).sum())) }
    }
  }

  /// Rounds `n` floats to half precision and back, in place (llama.cpp's F16 KV cache).
  public static func roundToHalf(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i + 16 <= n {
      store(x + i, SIMD16<Float>(SIMD16<Float16>(load(x + i))))
      i += 16
    }
    while i < n {
      x[i] = Float(Float16(x[i]))
      i += 1
    }
  }
}

extension Quantized {
  /// Converts `n` floats to half precision (round to nearest even).
  public static func toHalf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float16>, count n: Int) {
    var i = 0
    while i + 16 <= n {
      UnsafeMutableRawPointer(y + i).storeBytes(of: SIMD16<Float16>(load(x + i)), as: SIMD16<Float16>.self)
      i += 16
    }
    while i < n {
      y[i] = Float16(x[i])
      i += 1
    }
  }

  /// Converts `n` half floats to floats.
  public static func fromHalf(_ x: UnsafePointer<Float16>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i + 16 <= n {
      store(y + i, SIMD16<Float>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float16>.self)))
      i += 16
    }
    while i < n {
      y[i] = Float(x[i])
      i += 1
    }
  }
}
