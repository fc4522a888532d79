internal import CTomeKernels

/// Dequantisation of GGML block formats and quantised matrix–vector products.
///
/// Layouts follow ggml (`ggml-common.h`): each row is a run of blocks; `f16` scales are IEEE
/// half floats. The formats of the shipped models (F32, F16, Q4_0, Q4_1, Q8_0) decode in
/// CTomeKernels; the rarer ones decode here, block by block.
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
    case .f32, .f16, .q4_0, .q4_1, .q8_0:
      let decoded = tk_dequantize(Int32(type.rawValue), source, count, destination)
      precondition(decoded != 0, "\(type) has a SIMD decoder")
    case .bf16:
      for i in 0..<count {
        destination[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
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
    tk_round_like_q8(x, n, destination, blockSums)
  }

  /// Rounds `n` floats to half precision and back, in place (llama.cpp's F16 KV cache).
  public static func roundToHalf(_ x: UnsafeMutablePointer<Float>, count n: Int) { tk_round_to_half(x, n) }
}

extension Quantized {
  /// Converts `n` floats to half precision (round to nearest even).
  public static func toHalf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float16>, count n: Int) {
    tk_to_half(x, y, n)
  }

  /// Converts `n` half floats to floats.
  public static func fromHalf(_ x: UnsafePointer<Float16>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
    tk_from_half(x, y, n)
  }
}
