import Foundation

/// Serialises whole-machine numeric work (a batched forward pass) across the process.
///
/// OpenBLAS's thread count is process-wide state and the 2-core policy lets only one side
/// parallelise (ARCHITECTURE.md): a forward pass that uses both cores through BLAS threads, or
/// that pins BLAS to one thread while its own workers run (`Parallel.forEach`), must not overlap
/// another such pass. Overlapping passes would also see each other's thread-count changes, and
/// concurrent multi-threaded OpenBLAS calls were observed to give run-to-run differences in the
/// last bits, which would break the encoder's bit-identity guarantees.
public enum ComputeGate {
  private static let lock = NSLock()

  /// Runs `body` while no other gated work runs.
  public static func run<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}
