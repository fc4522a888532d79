/// A row-major matrix stored in a GGML format, viewed in place (usually inside a mapped file).
///
/// Row `r` holds output feature `r`; its `columns` elements are the input features, so
/// `y = W·x` is one dot product per row. `@unchecked Sendable`: `data` points to immutable
/// memory whose owner (the model) outlives every use.
public struct QuantizedMatrix: @unchecked Sendable {
  public let type: GGMLType
  public let rows: Int
  public let columns: Int
  public let data: UnsafeRawPointer
  public let rowBytes: Int

  public init(type: GGMLType, rows: Int, columns: Int, data: UnsafeRawPointer) {
    precondition(columns % type.blockSize == 0, "row of \(columns) is not whole \(type) blocks")
    precondition(type.canDequantize, "\(type) is not supported")
    self.type = type
    self.rows = rows
    self.columns = columns
    self.data = data
    self.rowBytes = type.rowBytes(columns)
  }

  /// Decodes rows `range` into `destination` (`range.count × columns` floats).
  public func dequantize(rows range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
    Quantized.dequantize(type, data + range.lowerBound * rowBytes, count: range.count * columns, into: destination)
  }

  /// Decodes the whole matrix into `destination` using `pieces` concurrent workers.
  public func dequantizeAll(into destination: UnsafeMutablePointer<Float>, pieces: Int = 8) {
    let out = SendablePointer(destination)
    Parallel.forRanges(count: rows, pieces: pieces) { r in
      dequantize(rows: r, into: out.pointer + r.lowerBound * columns)
    }
  }

  /// `y[r] = row(r) · x` for `r` in `range` (single-threaded).
  /// - Parameters:
  ///   - x: `columns` floats.
  ///   - y: output indexed by row number (`y[r]`).
  ///   - blockSums: sums of each block of 32 of `x` (from `Quantized.roundLikeQ8`), or nil
  ///     to compute them here.
  public func multiply(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>,
    blockSums: UnsafePointer<Float>? = nil
  ) {
    switch type {
    case .f32:
      for r in range {
        y[r] = Quantized.dotF32((data + r * rowBytes).assumingMemoryBound(to: Float.self), x, columns)
      }
    case .q4_0, .q4_1, .q8_0:
      let blocks = columns / 32
      withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks) { sums in
        let s = sums.baseAddress.unsafelyUnwrapped
        if let blockSums {
          s.update(from: blockSums, count: blocks)
        } else if type != .q8_0 {
          Quantized.blockSums(x, blocks: blocks, into: s)
        }
        var r = range.lowerBound
        while r < range.upperBound {
          let p = data + r * rowBytes
          switch type {
          case .q4_1:
            if r + 1 < range.upperBound {
              let (a, b) = Quantized.dotQ4_1x2(p, p + rowBytes, x, s, blocks: blocks)
              y[r] = a
              y[r + 1] = b
              r += 2
              continue
            }
            y[r] = Quantized.dotQ4_1(p, x, s, blocks: blocks)
          case .q4_0: y[r] = Quantized.dotQ4_0(p, x, s, blocks: blocks)
          default: y[r] = Quantized.dotQ8_0(p, x, blocks: blocks)
          }
          r += 1
        }
      }
    default:
      withUnsafeTemporaryAllocation(of: Float.self, capacity: columns) { buf in
        let b = buf.baseAddress.unsafelyUnwrapped
        for r in range {
          dequantize(rows: r..<(r + 1), into: b)
          y[r] = Quantized.dotF32(b, x, columns)
        }
      }
    }
  }

  /// `y = W·x`, split over `pieces` concurrent workers.
  public func multiply(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, blockSums: UnsafePointer<Float>? = nil,
    pieces: Int = 8
  ) {
    MatVec.run([MatVec(matrix: self, x: x, y: y, blockSums: blockSums)], pieces: pieces)
  }
}

/// One matrix–vector product in a batch run concurrently by `MatVec.run`.
public struct MatVec: @unchecked Sendable {
  public let matrix: QuantizedMatrix
  public let x: UnsafePointer<Float>
  public let y: UnsafeMutablePointer<Float>
  public let blockSums: UnsafePointer<Float>?

  public init(
    matrix: QuantizedMatrix, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    blockSums: UnsafePointer<Float>? = nil
  ) {
    self.matrix = matrix
    self.x = x
    self.y = y
    self.blockSums = blockSums
  }

  /// Runs several products as one parallel pass (their rows split into about `pieces` ranges),
  /// so small products share one dispatch instead of paying for one each.
  public static func run(_ jobs: [MatVec], pieces: Int) {
    let total = jobs.reduce(0) { $0 + $1.matrix.rows }
    guard total > 0 else { return }
    if pieces <= 1 {
      for j in jobs { j.matrix.multiply(j.x, into: j.y, rows: 0..<j.matrix.rows, blockSums: j.blockSums) }
      return
    }
    var step = (total + pieces - 1) / pieces
    step = (step + 15) / 16 * 16
    Parallel.forRanges(count: total, pieces: (total + step - 1) / step) { range in
      var base = 0
      for j in jobs {
        let lo = max(range.lowerBound, base)
        let hi = min(range.upperBound, base + j.matrix.rows)
        if lo < hi { j.matrix.multiply(j.x, into: j.y, rows: (lo - base)..<(hi - base), blockSums: j.blockSums) }
        base += j.matrix.rows
      }
    }
  }
}

extension Quantized {
  /// Sum of each block of 32 floats of `x`.
  @inline(__always)
  static func blockSums(_ x: UnsafePointer<Float>, blocks: Int, into s: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
      s[b] = (load(x + 32 * b) + load(x + 32 * b + 16)).sum()
    }
  }

  /// Dot product of `n` floats (SIMD, four independent accumulators).
  public static func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i + 32 <= n {
      acc0.addProduct(load(a + i), load(b + i))
      acc1.addProduct(load(a + i + 16), load(b + i + 16))
      i += 32
    }
    while i + 16 <= n {
      acc0.addProduct(load(a + i), load(b + i))
      i += 16
    }
    var s = (acc0 + acc1).sum()
    while i < n {
      s += a[i] * b[i]
      i += 1
    }
    return s
  }

  @inline(__always)
  static func dotQ4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int) -> Float {
    var acc = SIMD16<Float>()
    var mins: Float = 0
    for b in 0..<blocks {
      let p = row + 20 * b
      let d = half(p, 0)
      let m = half(p, 2)
      let q = p.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
      let xb = x + 32 * b
      var t = smallToFloat(q & 0x0F) * load(xb)
      t.addProduct(smallToFloat(q &>> 4), load(xb + 16))
      acc.addProduct(t, SIMD16(repeating: d))
      mins += m * sums[b]
    }
    return acc.sum() + mins
  }

  @inline(__always)
  static func dotQ4_1x2(
    _ r0: UnsafeRawPointer, _ r1: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int
  ) -> (Float, Float) {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var mins0: Float = 0, mins1: Float = 0
    for b in 0..<blocks {
      let xb = x + 32 * b
      let x0 = load(xb), x1 = load(xb + 16)
      let p = r0 + 20 * b
      let q = p.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
      var t = smallToFloat(q & 0x0F) * x0
      t.addProduct(smallToFloat(q &>> 4), x1)
      acc0.addProduct(t, SIMD16(repeating: half(p, 0)))
      mins0 += half(p, 2) * sums[b]
      let p1 = r1 + 20 * b
      let q1 = p1.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
      var t1 = smallToFloat(q1 & 0x0F) * x0
      t1.addProduct(smallToFloat(q1 &>> 4), x1)
      acc1.addProduct(t1, SIMD16(repeating: half(p1, 0)))
      mins1 += half(p1, 2) * sums[b]
    }
    return (acc0.sum() + mins0, acc1.sum() + mins1)
  }

  @inline(__always)
  static func dotQ4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int) -> Float {
    var acc = SIMD16<Float>()
    var offs: Float = 0
    for b in 0..<blocks {
      let p = row + 18 * b
      let d = half(p, 0)
      let q = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
      let xb = x + 32 * b
      var t = smallToFloat(q & 0x0F) * load(xb)
      t.addProduct(smallToFloat(q &>> 4), load(xb + 16))
      acc.addProduct(t, SIMD16(repeating: d))
      offs += 8 * d * sums[b]
    }
    return acc.sum() - offs
  }

  @inline(__always)
  static func dotQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
    var acc = SIMD16<Float>()
    for b in 0..<blocks {
      let p = row + 34 * b
      let d = half(p, 0)
      let xb = x + 32 * b
      var t = int8ToFloat(p.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)) * load(xb)
      t.addProduct(int8ToFloat(p.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)), load(xb + 16))
      acc.addProduct(t, SIMD16(repeating: d))
    }
    return acc.sum()
  }
}
