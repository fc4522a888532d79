/// Admits one generation at a time and queues up to `maxQueue` more; beyond that, `enter`
/// refuses at once (the server answers 503).
actor GenerationGate {
  let maxQueue: Int
  private var busy = false
  private var waiters: [CheckedContinuation<Void, Never>] = []

  init(maxQueue: Int) { self.maxQueue = maxQueue }

  /// Waits for the model; false when the queue is full. Every `true` needs one `leave()`.
  func enter() async -> Bool {
    if !busy {
      busy = true
      return true
    }
    if waiters.count >= maxQueue { return false }
    await withCheckedContinuation { waiters.append($0) }
    return true
  }

  func leave() {
    if waiters.isEmpty {
      busy = false
    } else {
      waiters.removeFirst().resume()
    }
  }

  /// Generations running plus waiting.
  var load: Int { (busy ? 1 : 0) + waiters.count }
}
