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
    multiply(x, activation: nil, into: y, rows: range, blockSums: blockSums)
  }

  /// `y[r] = row(r) · x` for `r` in `range`, using llama.cpp-style integer dot products
  /// against `activation` for Q4_0/Q4_1/Q8_0 rows (other formats use `activation.rounded`).
  public func multiply(_ activation: Q8Activation, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
    precondition(activation.count == columns, "activation of \(activation.count) for \(columns) columns")
    multiply(activation.rounded, activation: activation, into: y, rows: range, blockSums: activation.sums)
  }

  func multiply(
    _ x: UnsafePointer<Float>, activation: Q8Activation?, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>,
    blockSums: UnsafePointer<Float>?
  ) {
    if let a = activation {
      let blocks = columns / 32
      switch type {
      case .q4_1:
        var r = range.lowerBound
        while r + 1 < range.upperBound {
          let p = data + r * rowBytes
          (y[r], y[r + 1]) = Quantized.dotQ4_1x2(p, p + rowBytes, a, blocks: blocks)
          r += 2
        }
        if r < range.upperBound { y[r] = Quantized.dotQ4_1(data + r * rowBytes, a, blocks: blocks) }
        return
      case .q4_0:
        for r in range { y[r] = Quantized.dotQ4_0(data + r * rowBytes, a, blocks: blocks) }
        return
      case .q8_0:
        for r in range { y[r] = Quantized.dotQ8_0(data + r * rowBytes, a, blocks: blocks) }
        return
      default: break
      }
    }
    switch type {
    case .f32:
      for r in range {
        y[r] = Quantized.dotF32((data + r * rowBytes).assumingMemoryBound(to: Float.self), x, columns)
      }
    case .q4_0, .q4_1, .q8_0:
      let blocks = columns / 32
      let padded = (blocks + 1) / 2 * 64
      withUnsafeTemporaryAllocation(of: Float.self, capacity: padded + blocks) { buf in
        let xp = buf.baseAddress.unsafelyUnwrapped
        let s = xp + padded
        if type == .q8_0 {
          Quantized.permuteForBytes(x, blocks: blocks, into: xp)
          for r in range { y[r] = Quantized.dotQ8_0(data + r * rowBytes, xp, blocks: blocks) }
          return
        }
        Quantized.permuteForNibbles(x, blocks: blocks, into: xp)
        if let blockSums {
          s.update(from: blockSums, count: blocks)
        } else {
          Quantized.blockSums(x, blocks: blocks, into: s)
        }
        if type == .q4_1 {
          for r in range { y[r] = Quantized.dotQ4_1(data + r * rowBytes, xp, s, blocks: blocks) }
        } else {
          for r in range { y[r] = Quantized.dotQ4_0(data + r * rowBytes, xp, s, blocks: blocks) }
        }
      }
    case .q4_K:
      let blocks = columns / 256
      withUnsafeTemporaryAllocation(of: Float.self, capacity: columns + columns / 32) { buf in
        let xp = buf.baseAddress.unsafelyUnwrapped
        let s = xp + columns
        Quantized.permuteForQ4K(x, count: columns, into: xp)
        Quantized.blockSums(x, blocks: columns / 32, into: s)
        for r in range { y[r] = Quantized.dotQ4K(data + r * rowBytes, xp, s, blocks: blocks) }
      }
    case .q6_K:
      withUnsafeTemporaryAllocation(of: Float.self, capacity: columns) { buf in
        let xp = buf.baseAddress.unsafelyUnwrapped
        Quantized.permuteForQ4K(x, count: columns, into: xp)
        for r in range { y[r] = Quantized.dotQ6K(data + r * rowBytes, xp, blocks: columns / 256) }
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
  public let activation: Q8Activation?

  /// A product against a prepared Q8 activation (integer kernels).
  public init(matrix: QuantizedMatrix, activation: Q8Activation, y: UnsafeMutablePointer<Float>) {
    self.matrix = matrix
    self.x = UnsafePointer(activation.rounded)
    self.y = y
    self.blockSums = UnsafePointer(activation.sums)
    self.activation = activation
  }

  public init(
    matrix: QuantizedMatrix, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    blockSums: UnsafePointer<Float>? = nil
  ) {
    self.matrix = matrix
    self.x = x
    self.y = y
    self.blockSums = blockSums
    self.activation = nil
  }

  /// Runs several products as one parallel pass (their rows split into about `pieces` ranges),
  /// so small products share one dispatch instead of paying for one each. With a `team` the
  /// pass runs on its persistent threads (decoding); without, on Dispatch's pool.
  public static func run(_ jobs: [MatVec], pieces: Int, team: WorkerTeam? = nil) {
    let total = jobs.reduce(0) { $0 + $1.matrix.rows }
    guard total > 0 else { return }
    if pieces <= 1 {
      for j in jobs { j.matrix.multiply(j.x, activation: j.activation, into: j.y, rows: 0..<j.matrix.rows, blockSums: j.blockSums) }
      return
    }
    var step = (total + pieces - 1) / pieces
    step = (step + 15) / 16 * 16
    let body = { (range: Range<Int>) in
      var base = 0
      for j in jobs {
        let lo = max(range.lowerBound, base)
        let hi = min(range.upperBound, base + j.matrix.rows)
        if lo < hi {
          j.matrix.multiply(j.x, activation: j.activation, into: j.y, rows: (lo - base)..<(hi - base), blockSums: j.blockSums)
        }
        base += j.matrix.rows
      }
    }
    if let team {
      team.forRanges(count: total, pieces: (total + step - 1) / step, body)
    } else {
      Parallel.forRanges(count: total, pieces: (total + step - 1) / step, body)
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

  // The 4-bit kernels work on pairs of blocks with 32-bit lanes: lane j of a block's 16 quant
  // bytes (read as 4 × UInt32) holds bytes 4j…4j+3, and shifting by 4s exposes nibble s of
  // each lane. Instead of shuffling weights, the activations are permuted once per call to
  // that order (`permuteForNibbles`), so the inner loop is shift, mask, or, subtract, FMA.

  /// Activations reordered for the nibble kernels: for each pair of blocks, 8 vectors of
  /// 8 floats (lanes 0–3 from the first block, 4–7 from the second); odd tails padded with 0.
  @inline(__always)
  static func permuteForNibbles(_ x: UnsafePointer<Float>, blocks: Int, into xp: UnsafeMutablePointer<Float>) {
    let pairs = (blocks + 1) / 2
    for pair in 0..<pairs {
      for half in 0..<2 {
        let b = 2 * pair + half
        for sh in 0..<8 {
          for j in 0..<4 {
            let e = 4 * j + sh / 2 + (sh % 2 == 1 ? 16 : 0)
            xp[pair * 64 + sh * 8 + half * 4 + j] = b < blocks ? x[32 * b + e] : 0
          }
        }
      }
    }
  }

  /// Activations reordered for the Q8_0 kernel: per block, 4 vectors of 8 floats where lane j
  /// of vector s is element 4j + s.
  @inline(__always)
  static func permuteForBytes(_ x: UnsafePointer<Float>, blocks: Int, into xp: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
      for sh in 0..<4 {
        for j in 0..<8 { xp[b * 32 + sh * 8 + j] = x[32 * b + 4 * j + sh] }
      }
    }
  }

  @inline(__always)
  static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  /// Σ over blocks of d_b · Σ_i q_i x_i for a Q4_0/Q4_1 row (nibbles as unsigned 0…15).
  @inline(__always)
  static func nibbleDot(
    _ row: UnsafeRawPointer, blockBytes: Int, quantOffset: Int, _ xp: UnsafePointer<Float>, blocks: Int
  ) -> Float {
    var acc = SIMD8<Float>()
    let mask = SIMD8<UInt32>(repeating: 0x0F)
    let magic = SIMD8<UInt32>(repeating: 0x4B00_0000)
    let pairs = (blocks + 1) / 2
    for pair in 0..<pairs {
      let b0 = 2 * pair
      let b1 = min(b0 + 1, blocks - 1)
      let p0 = row + blockBytes * b0
      let p1 = row + blockBytes * b1
      let v = SIMD8<UInt32>(
        lowHalf: p0.loadUnaligned(fromByteOffset: quantOffset, as: SIMD4<UInt32>.self),
        highHalf: p1.loadUnaligned(fromByteOffset: quantOffset, as: SIMD4<UInt32>.self))
      let xb = xp + 64 * pair
      var t = SIMD8<Float>()
      var sh: UInt32 = 0
      for s in 0..<8 {
        let n = ((v &>> sh) & mask) | magic
        let f = unsafeBitCast(n, to: SIMD8<Float>.self) - SIMD8<Float>(repeating: 8_388_608)
        t.addProduct(f, load8(xb + 8 * s))
        sh += 4
      }
      let d0 = half(p0, 0)
      let d1 = b0 + 1 < blocks ? half(p1, 0) : 0
      acc.addProduct(t, SIMD8(lowHalf: SIMD4(repeating: d0), highHalf: SIMD4(repeating: d1)))
    }
    return acc.sum()
  }

  @inline(__always)
  static func dotQ4_1(_ row: UnsafeRawPointer, _ xp: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int) -> Float {
    var mins: Float = 0
    for b in 0..<blocks { mins += half(row + 20 * b, 2) * sums[b] }
    return nibbleDot(row, blockBytes: 20, quantOffset: 4, xp, blocks: blocks) + mins
  }

  @inline(__always)
  static func dotQ4_0(_ row: UnsafeRawPointer, _ xp: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, blocks: Int) -> Float {
    var offs: Float = 0
    for b in 0..<blocks { offs += 8 * half(row + 18 * b, 0) * sums[b] }
    return nibbleDot(row, blockBytes: 18, quantOffset: 2, xp, blocks: blocks) - offs
  }

  @inline(__always)
  static func dotQ8_0(_ row: UnsafeRawPointer, _ xp: UnsafePointer<Float>, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    let magic = SIMD8<Int32>(repeating: 0x4B40_0000)
    for b in 0..<blocks {
      let p = row + 34 * b
      let v = p.loadUnaligned(fromByteOffset: 2, as: SIMD8<Int32>.self)
      let xb = xp + 32 * b
      var t = SIMD8<Float>()
      var left: Int32 = 24
      for s in 0..<4 {
        let n = ((v &<< left) &>> 24) &+ magic
        t.addProduct(unsafeBitCast(n, to: SIMD8<Float>.self) - SIMD8<Float>(repeating: 12_582_912), load8(xb + 8 * s))
        left -= 8
      }
      acc.addProduct(t, SIMD8(repeating: half(p, 0)))
    }
    return acc.sum()
  }
}
