import CTomeKernels
import TomeCore
import TomeLinalg
import Testing

/// Every copy of the kernels this CPU can run against the portable copy, on the same inputs.
///
/// The fused copies (AVX2, AVX-512) round a multiply-add once where the portable copy rounds
/// twice, and sum lanes in the same order, so results agree to a few ulp, not bit for bit.
@Suite struct SIMDDispatchTests {
  /// The levels this machine can run, fastest last.
  static var levels: [tk_level] {
    let best = tk_detect_level()
    return [TK_LEVEL_PORTABLE, TK_LEVEL_AVX2, TK_LEVEL_AVX512].filter { $0.rawValue <= best.rawValue }
  }

  struct Inputs {
    var generator = SeededGenerator(seed: 7)
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] {
      (0..<n).map { _ in Float.random(in: -1..<1, using: &generator) * scale }
    }
  }

  /// Runs `body` with every level's table and compares each result with the portable one.
  func compare(
    _ name: String, tolerance: Float, relative: Bool = true, _ body: (UnsafePointer<tk_kernels>) -> [Float]
  ) {
    let reference = body(tk_kernels_for(TK_LEVEL_PORTABLE))
    for level in Self.levels.dropFirst() {
      let got = body(tk_kernels_for(level))
      #expect(got.count == reference.count)
      var worst: Float = 0
      for (a, b) in zip(got, reference) {
        let error = abs(a - b) / (relative ? max(1, abs(b)) : 1)
        worst = max(worst, error.isNaN ? .infinity : error)
      }
      #expect(worst <= tolerance, "\(name) at level \(level.rawValue): worst difference \(worst)")
    }
  }

  @Test("the detected level matches the CPU's features")
  func detection() {
    let cpu = CPUInfo.identify()
    let path = SIMDPath.current
    if cpu.has("avx512f") && cpu.has("avx512bw") && cpu.has("avx512vl") && cpu.has("avx512dq") && cpu.has("avx2") {
      #expect(path.supported == .avx512)
    } else if cpu.has("avx2") && cpu.has("fma") && cpu.has("f16c") {
      #expect(path.supported == .avx2)
    } else {
      #expect(path.supported == .portable)
    }
    #expect(path.level <= path.supported)
    if path.requested == nil { #expect(path.level == path.supported) }
  }

  @Test("element-wise kernels agree across levels")
  func elementWise() {
    var inputs = Inputs()
    let x = inputs.floats(1000, scale: 6)
    let up = inputs.floats(1000)
    let bias = inputs.floats(40)
    compare("exp", tolerance: 1e-6) { k in var y = x; k.pointee.exp(&y, y.count); return y }
    compare("erf", tolerance: 1e-6) { k in var y = x; k.pointee.erf(&y, y.count); return y }
    compare("bias_gelu", tolerance: 1e-6) { k in var y = x; k.pointee.bias_gelu(&y, 25, bias, 40); return y }
    compare("softmax_rows", tolerance: 1e-6) { k in var y = x; k.pointee.softmax_rows(&y, 9, 97, 111, 0.3); return y }
    compare("softmax", tolerance: 1e-6) { k in var y = x; k.pointee.softmax(&y, 999); return y }
    compare("swiglu", tolerance: 1e-5) { k in var y = x; k.pointee.swiglu(&y, up, 999); return y }
    compare("rms_norm", tolerance: 1e-5) { k in
      var y = [Float](repeating: 0, count: 999)
      k.pointee.rms_norm(x, up, 1e-5, 999, &y)
      return y
    }
    compare("layer_norm", tolerance: 1e-5) { k in var y = x; k.pointee.layer_norm(&y, 25, up, bias, 40, 1e-12); return y }
    var halves = [UInt16](repeating: 0, count: 999)
    tk_kernels_for(TK_LEVEL_PORTABLE).pointee.to_half(up, &halves, 999)
    compare("sums", tolerance: 1e-5) { k in
      [k.pointee.sum(x, 999), k.pointee.sum_of_squares(x, 999), k.pointee.dot_f32(x, up, 999), k.pointee.dot_f32_f16(x, halves, 999)]
    }
    compare("add, add3, axpy, scale", tolerance: 1e-6) { k in
      var y = up
      k.pointee.add(x, &y, 999)
      k.pointee.add3(x, up, &y, 998)
      k.pointee.axpy(0.7, x, &y, 997)
      k.pointee.scale(&y, 1.3, 995)
      return y
    }
    compare("half floats", tolerance: 0, relative: false) { k in
      var h = [UInt16](repeating: 0, count: 999)
      k.pointee.to_half(x, &h, 999)
      var y = [Float](repeating: 0, count: 999)
      k.pointee.from_half(h, &y, 999)
      var r = x
      k.pointee.round_to_half(&r, 999)
      return y + r
    }
  }

  @Test("quantised kernels agree across levels")
  func quantised() {
    var inputs = Inputs()
    let rows = 37, blocks = 19, columns = 32 * blocks  // odd rows and blocks: every tail path
    let x = inputs.floats(columns, scale: 3)
    // Random bytes with finite half-float scales in every block header.
    func matrix(blockBytes: Int, headers: Int) -> [UInt8] {
      var bytes = (0..<(rows * blocks * blockBytes)).map { _ in UInt8.random(in: 0...255, using: &inputs.generator) }
      for b in 0..<(rows * blocks) {
        for h in 0..<headers {
          let scale = Float16(Float.random(in: 0.01..<0.03, using: &inputs.generator))
          withUnsafeBytes(of: scale.bitPattern) { for i in 0..<2 { bytes[b * blockBytes + 2 * h + i] = $0[i] } }
        }
      }
      return bytes
    }
    for (type, blockBytes, headers) in [(TK_GGML_Q4_1, 20, 2), (TK_GGML_Q4_0, 18, 1), (TK_GGML_Q8_0, 34, 1)] {
      let data = matrix(blockBytes: blockBytes, headers: headers)
      compare("dequantize \(type)", tolerance: 0) { k in
        var y = [Float](repeating: 0, count: rows * columns)
        #expect(k.pointee.dequantize(Int32(type), data, rows * columns, &y) == 1)
        return y
      }
      compare("matvec \(type)", tolerance: 1e-4) { k in
        let activation = Q8Buffers(capacity: columns)
        var view = activation.view
        k.pointee.q8_prepare(&view, x, columns)
        var y = [Float](repeating: 0, count: rows)
        let run = type == TK_GGML_Q4_1 ? k.pointee.matvec_q4_1 : type == TK_GGML_Q4_0 ? k.pointee.matvec_q4_0 : k.pointee.matvec_q8_0
        run(data, blockBytes * blocks, blocks, &view, &y, 0, rows)
        return y + Array(UnsafeBufferPointer(start: activation.view.rounded, count: columns))
      }
    }
    compare("round_like_q8", tolerance: 0) { k in
      var y = [Float](repeating: 0, count: columns + blocks)
      y.withUnsafeMutableBufferPointer { k.pointee.round_like_q8(x, columns, $0.baseAddress!, $0.baseAddress! + columns) }
      return y
    }
  }

  @Test("attention kernels agree across levels")
  func attention() {
    var inputs = Inputs()
    let positions = 53, stride = 192
    let queries = inputs.floats(4 * 64)
    var keys = [UInt16](repeating: 0, count: positions * stride)
    let source = inputs.floats(positions * stride)
    tk_kernels_for(TK_LEVEL_PORTABLE).pointee.to_half(source, &keys, keys.count)
    for group in 1...4 {
      compare("attention scores, group \(group)", tolerance: 1e-5) { k in
        var scores = [Float](repeating: 0, count: 4 * 60)
        k.pointee.attention_scores(queries, group, keys, stride, 3, positions, 0.125, &scores, 60)
        return scores
      }
      compare("attention weighted sum, group \(group)", tolerance: 1e-5) { k in
        var out = [Float](repeating: 0, count: 4 * 64)
        for chunk in 0..<4 { k.pointee.attention_weighted_sum(source, 61, group, keys, stride, 50, chunk, &out) }
        return out
      }
    }
  }
}

/// Buffers for a Q8 activation as the C kernels see them (the C-level twin of Q8Activation).
final class Q8Buffers {
  let storage: [UnsafeMutableRawPointer]
  let view: tk_q8

  init(capacity: Int) {
    func floats(_ n: Int) -> UnsafeMutablePointer<Float> { .allocate(capacity: n) }
    func shorts(_ n: Int) -> UnsafeMutablePointer<Int16> { .allocate(capacity: n) }
    let c = (capacity + 63) / 64 * 64
    let (n, b, s, su, e, r) = (shorts(c), shorts(c), floats(c / 32), floats(c / 32), floats(c / 32), floats(c))
    storage = [UnsafeMutableRawPointer(n), UnsafeMutableRawPointer(b), UnsafeMutableRawPointer(s),
               UnsafeMutableRawPointer(su), UnsafeMutableRawPointer(e), UnsafeMutableRawPointer(r)]
    view = tk_q8(nibble_order: n, byte_order: b, scales: s, sums: su, exact_sums: e, rounded: r, count: c)
  }

  deinit { for p in storage { p.deallocate() } }
}
