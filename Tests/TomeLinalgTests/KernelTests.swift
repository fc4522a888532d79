import Foundation
import TomeLinalg
import Testing

@Suite struct KernelTests {
  @Test("vectorised exp: relative error below 3e-7 on [-87, 88], finite outside")
  func expAccuracy() {
    var x = [Float]()
    var t: Float = -87
    while t < 88 {
      x.append(t)
      t += 0.00591
    }
    x += [-1000, 1000]
    var y = x
    y.withUnsafeMutableBufferPointer { Activations.exp($0) }
    var worst = 0.0
    for i in 0..<(x.count - 2) {
      let reference = Foundation.exp(Double(x[i]))
      worst = max(worst, abs(Double(y[i]) - reference) / reference)
    }
    #expect(worst < 3e-7, "worst relative error \(worst)")
    #expect(y[y.count - 2] >= 0)
    #expect(y[y.count - 1].isFinite)
  }

  @Test("vectorised erf: absolute error below 5e-7; GELU matches the erf form")
  func erfAccuracy() {
    var x = [Float]()
    var t: Float = -7
    while t < 7 {
      x.append(t)
      t += 0.000713
    }
    var e = x
    e.withUnsafeMutableBufferPointer { Activations.erf($0) }
    var g = x
    let zero = [Float](repeating: 0, count: 1)
    g.withUnsafeMutableBufferPointer { gb in zero.withUnsafeBufferPointer { Activations.biasGELU(gb, bias: $0) } }
    var worstErf = 0.0
    var worstGELU = 0.0
    for i in x.indices {
      let d = Double(x[i])
      worstErf = max(worstErf, abs(Double(e[i]) - Foundation.erf(d)))
      worstGELU = max(worstGELU, abs(Double(g[i]) - 0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot()))))
    }
    #expect(worstErf < 5e-7, "erf error \(worstErf)")
    #expect(worstGELU < 4e-6, "GELU error \(worstGELU)")
  }

  @Test("softmax rows match a float64 reference, with tails and scale", arguments: [1, 7, 16, 33, 300])
  func softmax(count: Int) {
    let rows = 3
    let stride = count + 5
    var values = (0..<(rows * stride)).map { Float(sin(Double($0) * 1.7)) * 9 }
    let original = values
    values.withUnsafeMutableBufferPointer { buffer in
      Activations.softmaxRows(buffer.baseAddress!, rows: rows, count: count, stride: stride, scale: 0.5)
    }
    for r in 0..<rows {
      let xs = (0..<count).map { Double(original[r * stride + $0]) * 0.5 }
      let m = xs.max()!
      let sum = xs.reduce(0) { $0 + Foundation.exp($1 - m) }
      for j in 0..<count {
        #expect(abs(Double(values[r * stride + j]) - Foundation.exp(xs[j] - m) / sum) < 1e-6)
      }
      for j in count..<stride { #expect(values[r * stride + j] == original[r * stride + j]) }
    }
  }

  @Test("LayerNorm and the fused residual step match a float64 reference", arguments: [7, 384])
  func layerNorm(columns: Int) {
    let rows = 4
    var x = (0..<(rows * columns)).map { Float(cos(Double($0) * 0.37)) * 3 + 1 }
    let sub = (0..<(rows * columns)).map { Float(sin(Double($0) * 0.11)) }
    let bias = (0..<columns).map { Float($0 % 5) * 0.1 }
    let gamma = (0..<columns).map { 1 + Float($0 % 3) * 0.5 }
    let beta = (0..<columns).map { Float($0 % 4) * -0.25 }
    var expected: [Double] = []
    for r in 0..<rows {
      let v = (0..<columns).map { Double(x[r * columns + $0]) + Double(sub[r * columns + $0]) + Double(bias[$0]) }
      let mean = v.reduce(0, +) / Double(columns)
      let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(columns)
      expected += (0..<columns).map { (v[$0] - mean) / (variance + 1e-12).squareRoot() * Double(gamma[$0]) + Double(beta[$0]) }
    }
    var scratch = sub
    scratch.withUnsafeMutableBufferPointer { s in
      x.withUnsafeMutableBufferPointer { r in
        bias.withUnsafeBufferPointer { b in
          gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { be in
              Reductions.addBiasResidualLayerNorm(s, residual: r, bias: b, gamma: g, beta: be, epsilon: 1e-12)
            }
          }
        }
      }
    }
    for i in 0..<x.count { #expect(abs(Double(x[i]) - expected[i]) < 2e-5) }
  }

  @Test("biasGELU handles a ragged column count")
  func biasGELU() {
    var x: [Float] = (0..<(3 * 21)).map { Float($0) * 0.1 - 3 }
    let original = x
    let bias = (0..<21).map { Float($0) * 0.01 }
    x.withUnsafeMutableBufferPointer { xb in bias.withUnsafeBufferPointer { Activations.biasGELU(xb, bias: $0) } }
    for i in 0..<x.count {
      let v = Double(original[i] + bias[i % 21])
      #expect(abs(Double(x[i]) - 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))) < 4e-6)
    }
  }

  @Test("Parallel.forEach visits every item once and restores the BLAS thread count")
  func parallel() {
    let before = BLAS.threadCount
    var hits = [Int](repeating: 0, count: 1000)
    hits.withUnsafeMutableBufferPointer { h in
      let p = h.baseAddress!
      Parallel.forEach(count: 1000, width: 2) { p[$0] += 1 }
    }
    #expect(hits.allSatisfy { $0 == 1 })
    #expect(BLAS.threadCount == before)
  }
}
