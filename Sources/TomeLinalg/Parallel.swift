import Dispatch

/// Splits CPU work across the machine's cores with `DispatchQueue.concurrentPerform`.
///
/// Callers give the number of independent pieces (PERFORMANCE.md: use ≥ 8 on 2 cores so a
/// slow core does not hold the whole call back). Work smaller than `minimumPieceWork` runs
/// inline, because dispatch costs microseconds.
public enum Parallel {
  /// Runs `body(i)` for `i` in `0..<pieces`, concurrently when `pieces > 1`.
  public static func forEach(pieces: Int, _ body: (Int) -> Void) {
    if pieces <= 1 {
      if pieces == 1 { body(0) }
      return
    }
    // The body runs on several threads at once; callers only read shared inputs and write
    // disjoint outputs (the contract of this function), which the compiler cannot see.
    withoutActuallyEscaping(body) { escaping in
      let box = UncheckedSendableBox(escaping)
      DispatchQueue.concurrentPerform(iterations: pieces) { box.value($0) }
    }
  }

  /// Splits `0..<count` into about `pieces` contiguous ranges (each a multiple of `alignment`
  /// except the last) and runs `body` on each concurrently.
  public static func forRanges(
    count: Int, pieces: Int, alignment: Int = 1, _ body: (Range<Int>) -> Void
  ) {
    guard count > 0 else { return }
    let p = max(1, min(pieces, (count + alignment - 1) / alignment))
    var step = (count + p - 1) / p
    step = (step + alignment - 1) / alignment * alignment
    let n = (count + step - 1) / step
    forEach(pieces: n) { i in body((i * step)..<min(count, (i + 1) * step)) }
  }
}

/// A pointer handed to concurrent workers.
///
/// `@unchecked Sendable`: each worker reads shared inputs or writes a disjoint range of the
/// output, and the owner keeps the memory alive until `Parallel` returns.
public struct SendablePointer<T>: @unchecked Sendable {
  public let pointer: UnsafeMutablePointer<T>
  public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
  public init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// `@unchecked Sendable` wrapper used by `Parallel` only; see its contract.
struct UncheckedSendableBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
