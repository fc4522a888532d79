public import TomeCore
import Synchronization

/// Several OpenAI-compatible endpoints serving the same model, used as one `LanguageModel`.
///
/// Each request goes to the least-busy endpoint (requests in flight; ties broken round-robin)
/// among those that have not failed within `cooldown`. When an endpoint fails with a retryable
/// error before any text arrived, it is marked failed and the request moves to the next one.
/// Each client bounds its own concurrency (`OpenAIClient.Configuration.maxConcurrentRequests`).
public struct EndpointPool: LanguageModel {
  public let clients: [OpenAIClient]
  /// How long an endpoint that failed is skipped (unless every endpoint has failed).
  public let cooldown: Duration
  private let state: PoolState

  public init(clients: [OpenAIClient], cooldown: Duration = .seconds(30)) {
    precondition(!clients.isEmpty, "an endpoint pool needs at least one endpoint")
    self.clients = clients
    self.cooldown = cooldown
    self.state = PoolState(count: clients.count)
  }

  public var identifier: String { clients[0].identifier }
  public var contextLength: Int { clients.map(\.contextLength).min() ?? 8192 }
  public func tokenCount(_ text: String) throws -> Int { try clients[0].tokenCount(text) }
  public func promptTokenCount(_ messages: [ChatMessage]) throws -> Int { try clients[0].promptTokenCount(messages) }

  /// The index of the endpoint the next request would use.
  public func nextEndpoint() -> Int {
    state.pick(load: clients.map(\.requestsInFlight), now: .now)
  }

  public func stream(_ messages: [ChatMessage], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error> {
    AsyncThrowingStream { continuation in
      let task = Task {
        var lastError: (any Error)?
        for _ in 0..<clients.count {
          let i = nextEndpoint()
          var emitted = 0
          do {
            for try await piece in clients[i].stream(messages, parameters: parameters) {
              emitted += 1
              continuation.yield(piece)
            }
            state.markSucceeded(i)
            continuation.finish()
            return
          } catch let error as LLMError where error.isRetryable && emitted == 0 {
            state.markFailed(i, until: .now + cooldown)
            lastError = error
          } catch {
            continuation.finish(throwing: error)
            return
          }
        }
        continuation.finish(throwing: lastError ?? CancellationError())
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}

/// Round-robin cursor and failure times, shared by copies of a pool.
final class PoolState: Sendable {
  private struct Inner {
    var cursor = 0
    var failedUntil: [ContinuousClock.Instant?]
  }
  private let inner: Mutex<Inner>

  init(count: Int) { inner = Mutex(Inner(failedUntil: Array(repeating: nil, count: count))) }

  func pick(load: [Int], now: ContinuousClock.Instant) -> Int {
    inner.withLock { s in
      let n = load.count
      let healthy = (0..<n).filter { s.failedUntil[$0].map { $0 <= now } ?? true }
      let candidates = healthy.isEmpty ? Array(0..<n) : healthy
      // Least busy; among equals, the first at or after the cursor.
      let best = candidates.min { a, b in
        if load[a] != load[b] { return load[a] < load[b] }
        return (a - s.cursor + n) % n < (b - s.cursor + n) % n
      } ?? 0
      s.cursor = (best + 1) % n
      return best
    }
  }

  func markFailed(_ i: Int, until: ContinuousClock.Instant) { inner.withLock { $0.failedUntil[i] = until } }
  func markSucceeded(_ i: Int) { inner.withLock { $0.failedUntil[i] = nil } }
}
