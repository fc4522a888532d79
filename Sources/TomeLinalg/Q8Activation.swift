internal import CTomeKernels

/// An activation vector quantised the way llama.cpp quantises it before a Q4/Q8 dot product
/// (`quantize_row_q8_1`: per block of 32, d = max|x|/127, q = round-to-even(x/d)), laid out
/// for the integer kernels.
///
/// The integer kernels (CTomeKernels) multiply 16-bit lanes (one `vpmullw` per 16 products on
/// AVX2), about twice the work per instruction of the float path. The
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

  /// The buffers as the C kernels see them.
  let view: tk_q8

  public init(capacity: Int) {
    let c = (capacity + 63) / 64 * 64
    self.capacity = c
    nibbleOrder = .allocate(capacity: c)
    byteOrder = .allocate(capacity: c)
    scales = .allocate(capacity: c / 32)
    sums = .allocate(capacity: c / 32)
    exactSums = .allocate(capacity: c / 32)
    rounded = .allocate(capacity: c)
    view = tk_q8(
      nibble_order: nibbleOrder, byte_order: byteOrder, scales: scales, sums: sums, exact_sums: exactSums,
      rounded: rounded, count: c)
  }

  deinit {
    nibbleOrder.deallocate()
    byteOrder.deallocate()
    scales.deallocate()
    sums.deallocate()
    exactSums.deallocate()
    rounded.deallocate()
  }

  /// Quantises `n` floats of `x` (`n` a multiple of 32, at most `capacity`).
  public func prepare(_ x: UnsafePointer<Float>, count n: Int) {
    precondition(n % 32 == 0 && n <= capacity, "Q8 activation of \(n) floats (capacity \(capacity))")
    count = n
    withUnsafePointer(to: view) { tk_q8_prepare($0, x, n) }
  }
}
