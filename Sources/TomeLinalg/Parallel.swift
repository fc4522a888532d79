import Dispatch
import Synchronization

/// Fork-join helpers for the "Swift threads with BLAS pinned to one thread" side of the compute
/// policy (ARCHITECTURE.md): while `forEach` runs, OpenBLAS uses one thread per caller, so the
/// machine never runs BLAS threads and Swift workers at the same time.
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

  private static func run(count: Int, width: Int, _ body: (Int) -> Void) {
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
      let box = UncheckedBox(body)
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

/// Carries a non-Sendable value into `concurrentPerform`'s workers.
/// Invariant: the workers only call the closure, which writes disjoint memory per item.
private struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
