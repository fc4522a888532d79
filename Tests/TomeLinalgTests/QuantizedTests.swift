import Testing
import TomeCore
import TomeLinalg
import TomeTestSupport

/// Hand-built GGML blocks with known values.
@Suite("Dequantisation and quantised mat-vec")
struct QuantizedTests {
  static func f16(_ x: Float) -> [UInt8] {
    let b = Float16(x).bitPattern
    return [UInt8(b & 0xFF), UInt8(b >> 8)]
  }

  static func decode(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    bytes.withUnsafeBytes { src in
      out.withUnsafeMutableBufferPointer { Quantized.dequantize(type, src.baseAddress!, count: count, into: $0.baseAddress!) }
    }
    return out
  }

  @Test("F32, F16, BF16")
  func floats() {
    let xs: [Float] = [0, 1, -2.5, 65504, 1e-3]
    #expect(Self.decode(.f32, xs.withUnsafeBytes { Array($0) }, count: 5) == xs)
    #expect(Self.decode(.f16, xs.flatMap(Self.f16), count: 5) == xs.map { Float(Float16($0)) })
    let bf: [UInt8] = [0x80, 0x3F, 0x20, 0xC0]  // 1.0, -2.5
    #expect(Self.decode(.bf16, bf, count: 2) == [1, -2.5])
  }

  @Test("Q4_0, Q4_1, Q8_0")
  func legacy() {
    let qs = (0..<16).map { UInt8($0 & 0xF) | UInt8((15 - $0) << 4) }
    let q40 = Self.decode(.q4_0, Self.f16(0.5) + qs, count: 32)
    let lo: [Float] = (0..<16).map { Float($0) }
    let hi: [Float] = (0..<16).map { Float(15 - $0) }
    let want40: [Float] = (lo + hi).map { ($0 - 8) * 0.5 }
    #expect(q40 == want40)
    let q41 = Self.decode(.q4_1, Self.f16(0.25) + Self.f16(-1) + qs, count: 32)
    let want41: [Float] = (lo + hi).map { $0 * 0.25 - 1 }
    #expect(q41 == want41)
    let q8 = (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
    #expect(Self.decode(.q8_0, Self.f16(0.125) + q8, count: 32) == (0..<32).map { Float($0 - 16) * 0.125 })
  }

  @Test("Q5_0 and Q5_1 fifth bits")
  func q5() {
    // Element j's fifth bit is bit j of qh; elements 0 and 17 have it set.
    let qh: UInt32 = 1 | (1 << 17)
    let qhb = (0..<4).map { UInt8((qh >> (8 * $0)) & 0xFF) }
    let qs = [UInt8](repeating: 0x21, count: 16)  // low nibble 1, high nibble 2
    var want0 = [Float](repeating: 1 - 16, count: 16) + [Float](repeating: 2 - 16, count: 16)
    want0[0] = 17 - 16
    want0[17] = 18 - 16
    #expect(Self.decode(.q5_0, Self.f16(2) + qhb + qs, count: 32) == want0.map { $0 * 2 })
    let got1 = Self.decode(.q5_1, Self.f16(2) + Self.f16(3) + qhb + qs, count: 32)
    #expect(got1 == want0.map { ($0 + 16) * 2 + 3 })
  }

  @Test("Q4_K and Q5_K with per-sub-block scales and mins")
  func kQuants() {
    let sc: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
    let mn: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7]
    var scales = [UInt8](repeating: 0, count: 12)
    for j in 0..<4 {
      scales[j] = sc[j]
      scales[j + 4] = mn[j]
    }
    for j in 4..<8 { scales[j + 4] = sc[j] | (mn[j] << 4) }
    let qs: [UInt8] = (0..<128).map { (i: Int) -> UInt8 in
      let low = UInt8(i % 16)
      let high = UInt8((i + 3) % 16) << 4
      return low | high
    }
    var want = [Float](repeating: 0, count: 256)
    for j in 0..<4 {
      for l in 0..<32 {
        want[64 * j + l] = 1.0 * Float(sc[2 * j]) * Float((32 * j + l) % 16) - 0.5 * Float(mn[2 * j])
        want[64 * j + 32 + l] = 1.0 * Float(sc[2 * j + 1]) * Float((32 * j + l + 3) % 16) - 0.5 * Float(mn[2 * j + 1])
      }
    }
    #expect(Self.decode(.q4_K, Self.f16(1) + Self.f16(0.5) + scales + qs, count: 256) == want)
    // Q5_K: set the fifth bit of every element of sub-blocks 1 and 6 (bits 1 and 6 of qh).
    let qh = [UInt8](repeating: (1 << 1) | (1 << 6), count: 32)
    var want5 = want
    for l in 0..<32 {
      want5[32 + l] += 16 * Float(sc[1])
      want5[192 + l] += 16 * Float(sc[6])
    }
    #expect(Self.decode(.q5_K, Self.f16(1) + Self.f16(0.5) + scales + qh + qs, count: 256) == want5)
  }

  @Test("Q6_K: 6-bit values with 16 int8 scales")
  func q6K() {
    var ql = [UInt8](repeating: 0, count: 128)
    var qh = [UInt8](repeating: 0, count: 64)
    let q = (0..<256).map { ($0 * 5) % 64 }
    // Pack by the layout: per half of 128, element l, l+32, l+64, l+96 for l < 32.
    for half in 0..<2 {
      for l in 0..<32 {
        let e = 128 * half + l
        let (a, b, c, d) = (q[e], q[e + 32], q[e + 64], q[e + 96])
        ql[64 * half + l] = UInt8(a & 0xF) | UInt8((c & 0xF) << 4)
        ql[64 * half + l + 32] = UInt8(b & 0xF) | UInt8((d & 0xF) << 4)
        qh[32 * half + l] = UInt8(a >> 4) | UInt8((b >> 4) << 2) | UInt8((c >> 4) << 4) | UInt8((d >> 4) << 6)
      }
    }
    let scales = (0..<16).map { UInt8(bitPattern: Int8($0 - 8)) }
    let want = (0..<256).map { e in 0.5 * Float(e / 16 - 8) * Float(q[e] - 32) }
    #expect(Self.decode(.q6_K, ql + qh + scales + Self.f16(0.5), count: 256) == want)
  }

  @Test("quantised mat-vec equals dequantise-then-dot", arguments: [GGMLType.q4_0, .q4_1, .q8_0, .q4_K, .q6_K, .f16])
  func matVec(type: GGMLType) {
    // 3 blocks of 32 exercise the odd-pair tail; 19 blocks the 8-block min-term loop
    // (two rounds) plus an odd tail.
    for columns in type.blockSize == 256 ? [512] : [96, 608] {
      var rng = SeededGenerator(seed: 3)
      let rows = 37
      var bytes = [UInt8](repeating: 0, count: rows * type.rowBytes(columns))
      for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
      // Keep f16 scales finite and small: rewrite every block's scale fields.
      let bpb = type.bytesPerBlock
      let scaleOffsets: [Int] = switch type {
      case .q4_0, .q8_0: [0]
      case .q4_1: [0, 2]
      case .q6_K: [208]
      case .q4_K: [0, 2]
      default: []
      }
      for b in 0..<(bytes.count / bpb) {
        for o in scaleOffsets {
          let h = Self.f16(Float(rng.next() % 1000) / 10000 + 0.01)
          bytes[b * bpb + o] = h[0]
          bytes[b * bpb + o + 1] = h[1]
        }
      }
      if type == .f16 { for i in stride(from: 1, to: bytes.count, by: 2) { bytes[i] &= 0x3B } }
      let x = (0..<columns).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
      bytes.withUnsafeBytes { raw in
        let m = QuantizedMatrix(type: type, rows: rows, columns: columns, data: raw.baseAddress!)
        var dense = [Float](repeating: 0, count: rows * columns)
        dense.withUnsafeMutableBufferPointer { m.dequantize(rows: 0..<rows, into: $0.baseAddress!) }
        var y = [Float](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { xp in
          y.withUnsafeMutableBufferPointer { m.multiply(xp.baseAddress!, into: $0.baseAddress!, pieces: 4) }
        }
        for r in 0..<rows {
          var want: Double = 0
          for c in 0..<columns { want += Double(dense[r * columns + c]) * Double(x[c]) }
          #expect(abs(Double(y[r]) - want) < 1e-3 * max(1, abs(want)), "row \(r): \(y[r]) vs \(want)")
        }
        // Integer kernels against llama.cpp-style Q8 activations: equal to the float product
        // with the rounded activations (Q4_1's min term uses f16 block sums, as llama.cpp does).
        let act = Q8Activation(capacity: columns)
        x.withUnsafeBufferPointer { act.prepare($0.baseAddress!, count: columns) }
        var yi = [Float](repeating: 0, count: rows)
        yi.withUnsafeMutableBufferPointer { m.multiply(act, into: $0.baseAddress!, rows: 0..<rows) }
        for r in 0..<rows {
          var want: Double = 0
          var scale: Double = 0
          for c in 0..<columns {
            want += Double(dense[r * columns + c]) * Double(act.rounded[c])
            scale += abs(Double(dense[r * columns + c]) * Double(act.rounded[c]))
          }
          #expect(abs(Double(yi[r]) - want) < 2e-3 * max(1, scale), "int row \(r): \(yi[r]) vs \(want)")
        }
      }
    }
  }

  @Test("half-float dots of scattered rows in one call equal one call per row", arguments: [0, 1, 5, 33])
  func halfDotRows(count: Int) {
    var generator = SeededGenerator(seed: 7)
    let n = 384
    let matrix = (0..<(40 * n)).map { _ in Float16(Float.random(in: -1...1, using: &generator)) }
    let q = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
    // Rows out of order and repeated, as a node's neighbours are.
    // One spare entry: nothing past `count` may be read or written (count 0 writes nothing).
    let rows: [UInt32] = (0...count).map { UInt32(($0 * 17 + 3) % 40) }
    var batched = [Float](repeating: .nan, count: count + 1)
    matrix.withUnsafeBufferPointer { m in
      q.withUnsafeBufferPointer { qp in
        rows.withUnsafeBufferPointer { r in
          batched.withUnsafeMutableBufferPointer { out in
            Quantized.dotHalfRows(qp.baseAddress!, m.baseAddress!, n, rows: r.baseAddress!, count: count, into: out.baseAddress!)
          }
        }
        for (i, row) in rows.prefix(count).enumerated() {
          #expect(batched[i] == Quantized.dotHalf(qp.baseAddress!, m.baseAddress! + Int(row) * n, n))
        }
        #expect(batched[count].isNaN)
      }
    }
  }

  @Test("Q8 activation rounding and the polynomial exp")
  func helpers() {
    let x = (0..<64).map { Float($0) / 7 - 4 }
    var y = [Float](repeating: 0, count: 64)
    var s = [Float](repeating: 0, count: 2)
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        s.withUnsafeMutableBufferPointer { Quantized.roundLikeQ8(xp.baseAddress!, count: 64, into: yp.baseAddress!, blockSums: $0.baseAddress!) }
      }
    }
    for i in 0..<64 { #expect(abs(y[i] - x[i]) <= 4.0 / 127) }
    var values: [Float] = [-80, -10, -1, 0, 0.5, 3, 20, 80]
    let inputs = values
    values.withUnsafeMutableBufferPointer { Activations.exp($0) }
    for (v, e) in zip(inputs, values) {
      #expect(abs(e / Float(Foundation_exp(Double(v))) - 1) < 1e-5, "exp(\(v)) = \(e)")
    }
  }
}

func Foundation_exp(_ x: Double) -> Double {
  var r = 1.0, term = 1.0
  // Taylor series on x/64, then square 6 times (accurate enough for the test range).
  let y = x / 64
  for n in 1..<30 {
    term *= y / Double(n)
    r += term
  }
  for _ in 0..<6 { r *= r }
  return r
}
