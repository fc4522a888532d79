import Dispatch
import Synchronization

/// Fork-join helpers for the "Swift threads" side of the compute policy (ARCHITECTURE.md).
///
/// `forEach(count:width:)` pins OpenBLAS to one thread while it runs, for work that calls BLAS
/// inside each item (the encoder); `forEach(pieces:)` and `forRanges` are for pure Swift kernels
/// (quantised mat-vec). Use ≥ 8 pieces on 2 cores so a slow core does not hold the call back.
public enum Parallel {
  /// Calls `body(i)` for every `i` in `0..<count`, spread over `width` threads that take items
  /// in order from a shared counter. With `width` 1 the loop runs on the caller's thread and the
  /// BLAS thread count is left alone.
  ///
  /// - Parameters:
  ///   - count: number of items.
  ///   - width: number of threads (≥ 1).
  ///   - body: the work for one item; it must only write memory no other item writes.
  /// - Complexity: O(count) calls of `body`.
  public static func forEach(count: Int, width: Int, _ body: (Int) -> Void) {
    precondition(width >= 1, "width must be at least 1")
    guard count > 0 else { return }
    if width == 1 || count == 1 {
      for i in 0..<count { body(i) }
      return
    }
    BLAS.withThreadCount(1) { run(count: count, width: width, body) }
  }

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

  private static func run(count: Int, width: Int, _ body: (Int) -> Void) {
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
      let box = UncheckedSendableBox(body)
      DispatchQueue.concurrentPerform(iterations: min(width, count)) { _ in
        while true {
          let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
          if i >= count { break }
          box.value(i)
        }
      }
    }
  }
}

extension BLAS {
  /// Runs `body` with OpenBLAS limited to `count` threads, then restores the previous count.
  /// Does nothing extra when the count is already `count`.
  public static func withThreadCount<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
    let previous = threadCount
    guard previous != count else { return try body() }
    setThreadCount(count)
    defer { setThreadCount(previous) }
    return try body()
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

/// Carries a non-Sendable closure into `concurrentPerform`'s workers.
/// Invariant: the workers only call it, and it writes disjoint memory per item.
struct UncheckedSendableBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

