import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Persistent threads for short, frequent fork-join regions (single-token decoding).
///
/// Decoding one token runs ~180 parallel regions of 5–200 µs each. `DispatchQueue
/// .concurrentPerform` parks its workers between calls, so every region pays a thread wake-up
/// (several µs, more on a loaded VM). A team's helpers instead spin for a short while after each
/// region (`spin`, default 30 µs: longer than the gaps inside a token, shorter than most
/// gaps between tokens) and only then park on a condition, so back-to-back regions
/// start at once. The caller always works too and never waits for a helper that has not
/// claimed a piece; it does wait (polling 5 µs, then sleeping) for a claimed piece, which on
/// an oversubscribed machine can take a time slice when the OS preempts that helper.
///
/// Pieces are claimed one at a time from a shared ticket (generation, count and next index
/// in one atomic word), so a slow core takes fewer pieces. Not reentrant and not `Sendable`:
/// one owner (a `LlamaContext`) calls `forEach` from one thread at a time.
public final class WorkerTeam {
  /// Threads besides the caller.
  public let helperCount: Int
  private let state: State

  /// - Parameters:
  ///   - helpers: threads besides the caller (default: active cores − 1).
  ///   - spin: how long a helper keeps polling for work after its last region before it parks.
  public init(helpers: Int? = nil, spin: Duration = .microseconds(30)) {
    let helpers = helpers ?? max(0, ProcessInfo.processInfo.activeProcessorCount - 1)
    precondition(helpers >= 0, "negative helper count")
    helperCount = helpers
    let (s, a) = spin.components
    state = State(spinNanoseconds: UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a) / 1_000_000_000))
    for _ in 0..<helpers {
      let s = state
      let thread = Thread { s.helperLoop() }
      thread.name = "tome-worker"
      thread.start()
    }
  }

  deinit { state.shutDown() }

  /// Calls `body(i)` for every `i` in `0..<pieces`, on the caller and the helpers; returns
  /// when all calls have returned. `body` must only write memory no other piece writes.
  public func forEach(pieces: Int, _ body: (Int) -> Void) {
    precondition(pieces < State.maxPieces, "\(pieces) pieces (at most \(State.maxPieces - 1))")
    if pieces <= 1 || helperCount == 0 {
      for i in 0..<pieces { body(i) }
      return
    }
    withoutActuallyEscaping(body) { escaping in
      var job = escaping
      withUnsafeMutablePointer(to: &job) { state.run(pieces: pieces, job: UnsafeRawPointer($0)) }
    }
  }

  /// Splits `0..<count` into about `pieces` contiguous ranges (each a multiple of `alignment`
  /// except the last) and runs `body` on each.
  public func forRanges(count: Int, pieces: Int, alignment: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let p = max(1, min(pieces, (count + alignment - 1) / alignment))
    var step = (count + p - 1) / p
    step = (step + alignment - 1) / alignment * alignment
    let n = (count + step - 1) / step
    forEach(pieces: n) { i in body((i * step)..<min(count, (i + 1) * step)) }
  }

  /// Shared between the owner and the helper threads.
  ///
  /// `@unchecked Sendable`: all cross-thread fields are atomics; the job closure behind `job`
  /// is only called by a thread that claimed a piece of the current generation, and the owner
  /// keeps it alive until every piece is done.
  private final class State: @unchecked Sendable {
    static let maxPieces = 1 << 16
    /// A gap between two polls this long means the spinning thread was descheduled.
    static let preemptedNanoseconds: UInt64 = 200_000
    /// generation << 32 | piece count << 16 | next piece.
    let ticket = Atomic<UInt64>(0)
    /// Pieces of the current generation that have returned.
    let done = Atomic<Int>(0)
    /// Address of the current job's `(Int) -> Void` closure.
    let job = Atomic<UInt>(0)
    let sleepers = Atomic<Int>(0)
    /// The owner sleeps on `condition` until the last piece is done.
    let ownerWaiting = Atomic<Bool>(false)
    /// How long the owner polls for the helpers' last pieces before it sleeps.
    static let waitSpinNanoseconds: UInt64 = 5_000
    let stopped = Atomic<Bool>(false)
    let condition = NSCondition()
    let spinNanoseconds: UInt64
    /// Owner-only: the last generation published.
    var generation: UInt64 = 0

    init(spinNanoseconds: UInt64) { self.spinNanoseconds = spinNanoseconds }

    func shutDown() {
      stopped.store(true, ordering: .sequentiallyConsistent)
      condition.lock()
      condition.broadcast()
      condition.unlock()
    }

    func run(pieces: Int, job p: UnsafeRawPointer) {
      job.store(UInt(bitPattern: p), ordering: .releasing)
      done.store(0, ordering: .relaxed)
      generation = (generation + 1) & 0xFFFF_FFFF
      ticket.store(generation << 32 | UInt64(pieces) << 16, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        condition.lock()
        condition.broadcast()
        condition.unlock()
      }
      work(generation: generation)
      // A helper still runs a piece: poll briefly, then sleep until the last piece signals.
      // (Yielding instead would hand the core to other processes on a loaded machine, and a
      // helper the OS descheduled mid-piece can take a whole time slice to come back.)
      let start = DispatchTime.now().uptimeNanoseconds
      var spins = 0
      while done.load(ordering: .acquiring) < pieces {
        spins += 1
        if spins & 63 == 0 && DispatchTime.now().uptimeNanoseconds - start > State.waitSpinNanoseconds {
          condition.lock()
          ownerWaiting.store(true, ordering: .sequentiallyConsistent)
          while done.load(ordering: .sequentiallyConsistent) < pieces { condition.wait() }
          ownerWaiting.store(false, ordering: .relaxed)
          condition.unlock()
          return
        }
      }
    }

    /// Claims and runs pieces of `generation` until none is left.
    @inline(__always)
    func work(generation g: UInt64) {
      while true {
        let t = ticket.load(ordering: .acquiring)
        guard t >> 32 == g else { return }
        let next = Int(t & 0xFFFF), count = Int((t >> 16) & 0xFFFF)
        guard next < count else { return }
        let p = job.load(ordering: .acquiring)
        // The CAS succeeds only while piece `next` of generation g is unclaimed, so g is not
        // finished and `p` (published before g's ticket) is still g's job.
        guard ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing).exchanged else {
          continue
        }
        State.call(p, next)
        if done.add(1, ordering: .sequentiallyConsistent).newValue == count
          && ownerWaiting.load(ordering: .sequentiallyConsistent)
        {
          condition.lock()
          condition.broadcast()
          condition.unlock()
        }
      }
    }

    /// Calls the job (separate so the closure copy is released before the piece counts as done).
    @inline(never)
    static func call(_ p: UInt, _ i: Int) {
      let f = UnsafeRawPointer(bitPattern: p).unsafelyUnwrapped.assumingMemoryBound(to: ((Int) -> Void).self)
      f.pointee(i)
    }

    func helperLoop() {
      var seen = ticket.load(ordering: .acquiring) >> 32
      while !stopped.load(ordering: .relaxed) {
        var t = ticket.load(ordering: .acquiring)
        if t >> 32 == seen {
          var start = DispatchTime.now().uptimeNanoseconds
          var last = start
          var spins = 0
          while t >> 32 == seen {
            spins += 1
            if spins & 63 == 0 {
              if stopped.load(ordering: .relaxed) { return }
              let now = DispatchTime.now().uptimeNanoseconds
              // Park after `spinNanoseconds` without work, or at once when the OS took the core
              // away mid-spin (a gap between polls): on an oversubscribed machine spinning only
              // takes time from the threads that have work.
              if now - start > spinNanoseconds || now - last > State.preemptedNanoseconds {
                park(seen: seen)
                if stopped.load(ordering: .relaxed) { return }
                start = DispatchTime.now().uptimeNanoseconds
                last = start
              } else {
                last = now
              }
            }
            t = ticket.load(ordering: .acquiring)
          }
        }
        seen = t >> 32
        work(generation: seen)
      }
    }

    /// Sleeps until a generation after `seen` is published (or shutdown).
    func park(seen: UInt64) {
      condition.lock()
      sleepers.add(1, ordering: .sequentiallyConsistent)
      while ticket.load(ordering: .sequentiallyConsistent) >> 32 == seen && !stopped.load(ordering: .sequentiallyConsistent) {
        condition.wait()
      }
      sleepers.subtract(1, ordering: .sequentiallyConsistent)
      condition.unlock()
    }
  }
}
