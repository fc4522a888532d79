import Synchronization

/// One admission through a `GenerationGate`: `release()` leaves the gate once, and a ticket
/// that is dropped without being released (a streaming response Hummingbird never wrote
/// because the client had gone) releases itself, so the model is never left marked busy.
final class GateTicket: Sendable {
  private let gate: GenerationGate
  private let released = Atomic<Bool>(false)

  init(_ gate: GenerationGate) { self.gate = gate }

  func release() {
    guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
    let gate = self.gate
    Task { await gate.leave() }
  }

  deinit { release() }
}

/// Admits one generation at a time and queues up to `maxQueue` more; beyond that, `enter`
/// refuses at once (the server answers 503). A waiter whose task is cancelled (its client
/// went away) leaves the queue at once instead of holding a place it will never use.
actor GenerationGate {
  let maxQueue: Int
  private var busy = false
  private var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
  private var nextID = 0

  init(maxQueue: Int) { self.maxQueue = maxQueue }

  /// Waits for the model; false when the queue is full or the task was cancelled while
  /// waiting. Every `true` needs one `leave()`.
  func enter() async -> Bool {
    if Task.isCancelled { return false }
    if !busy {
      busy = true
      return true
    }
    if waiters.count >= maxQueue { return false }
    let id = nextID
    nextID += 1
    return await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        if Task.isCancelled {
          continuation.resume(returning: false)
        } else {
          waiters.append((id, continuation))
        }
      }
    } onCancel: {
      Task { await self.abandon(id) }
    }
  }

  /// Removes a cancelled waiter (if it is still waiting) and tells it it was not admitted.
  private func abandon(_ id: Int) {
    guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
    waiters.remove(at: i).continuation.resume(returning: false)
  }

  func leave() {
    if waiters.isEmpty {
      busy = false
    } else {
      waiters.removeFirst().continuation.resume(returning: true)
    }
  }

  /// Generations running plus waiting.
  var load: Int { (busy ? 1 : 0) + waiters.count }
}
