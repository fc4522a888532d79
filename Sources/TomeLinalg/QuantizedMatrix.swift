internal import CTomeKernels

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
    if let a = activation, type == .q4_1 || type == .q4_0 || type == .q8_0 {
      // Integer kernels (CTomeKernels): one call per row range.
      let rows = data.assumingMemoryBound(to: UInt8.self)
      let (lo, hi, blocks) = (range.lowerBound, range.upperBound, columns / 32)
      withUnsafePointer(to: a.view) { view in
        switch type {
        case .q4_1: tk_matvec_q4_1(rows, rowBytes, blocks, view, y, lo, hi)
        case .q4_0: tk_matvec_q4_0(rows, rowBytes, blocks, view, y, lo, hi)
        default: tk_matvec_q8_0(rows, rowBytes, blocks, view, y, lo, hi)
        }
      }
      return
    }
    let rows = data.assumingMemoryBound(to: UInt8.self)
    let (lo, hi) = (range.lowerBound, range.upperBound)
    switch type {
    case .f32:
      for r in range {
        y[r] = Quantized.dotF32((data + r * rowBytes).assumingMemoryBound(to: Float.self), x, columns)
      }
    case .q4_0, .q4_1:
      tk_matvec_q4_float(type == .q4_1 ? 1 : 0, rows, rowBytes, columns / 32, x, blockSums, y, lo, hi)
    case .q8_0:
      tk_matvec_q8_0_float(rows, rowBytes, columns / 32, x, y, lo, hi)
    case .q4_K:
      tk_matvec_q4_k(rows, rowBytes, columns / 256, x, y, lo, hi)
    case .q6_K:
      tk_matvec_q6_k(rows, rowBytes, columns / 256, x, y, lo, hi)
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
  /// Dot product of `n` floats (CTomeKernels, two 16-lane accumulators).
  public static func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    tk_dot_f32(a, b, n)
  }

  /// Dot product of `n` floats with `n` half floats (CTomeKernels; one F16C conversion per 8
  /// lanes on AVX2 and AVX-512): the distance of the graph indexes' stored rows.
  public static func dotHalf(_ q: UnsafePointer<Float>, _ row: UnsafePointer<Float16>, _ n: Int) -> Float {
    tk_dot_f32_f16(q, row, n)
  }

  /// `dotHalf` of `q` with rows `rows` of the row-major half-float matrix `base` (`n` columns),
  /// into `out`, fetching each next row while the current one is scored: one call per
  /// expanded graph node instead of one per neighbour.
  public static func dotHalfRows(
    _ q: UnsafePointer<Float>, _ base: UnsafePointer<Float16>, _ n: Int, rows: UnsafePointer<UInt32>, count: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    tk_dot_f32_f16_rows(q, base, n, rows, count, out)
  }
}
