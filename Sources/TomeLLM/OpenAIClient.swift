public import Foundation
public import TomeCore
import Synchronization

/// A `LanguageModel` backed by an OpenAI-compatible server (`POST /v1/chat/completions`):
/// llama.cpp's server, vLLM, SGLang, OpenAI, or `tome serve`.
///
/// Transfers run through libcurl on their own threads (never on the cooperative pool), at most
/// `Configuration.maxConcurrentRequests` at a time. `stream` asks for Server-Sent Events and
/// yields `choices[0].delta.content` pieces; `complete` asks for one JSON response. Both
/// retry 429, 5xx, connection errors and timeouts with exponential backoff and jitter, but only
/// before the first piece of text has been handed out. Cancelling the consuming task aborts the
/// transfer within curl's next progress callback.
///
///     let client = OpenAIClient(configuration: .init(baseURL: URL(string: "http://127.0.0.1:8080")!))
///     for try await piece in client.stream([.user("Hi")], parameters: .greedy(maxTokens: 32)) { print(piece, terminator: "") }
public struct OpenAIClient: LanguageModel {
  /// Where and how to reach the endpoint.
  public struct Configuration: Sendable, Hashable {
    /// The server root, e.g. `http://127.0.0.1:8080` (a trailing `/v1` is accepted).
    public var baseURL: URL
    /// The `model` field sent; nil sends "default" (llama.cpp and `tome serve` ignore it).
    public var model: String?
    /// Sent as `Authorization: Bearer …`. The CLI reads it from an environment variable.
    public var token: String?
    /// Most time to establish the TCP connection.
    public var connectTimeout: Duration
    /// Most time for a whole request, generation included.
    public var totalTimeout: Duration
    /// Most time without receiving a byte once connected.
    public var idleTimeout: Duration
    /// Retries after the first attempt (429, 5xx, connection errors, timeouts; before any text).
    public var maxRetries: Int
    /// Backoff before retry n is a random duration in [d/2, d], d = min(base × 2ⁿ, maxRetryDelay).
    public var retryBaseDelay: Duration
    public var maxRetryDelay: Duration
    /// Requests in flight at once through this client; further ones wait.
    public var maxConcurrentRequests: Int
    /// Context window reported as `contextLength` (servers do not say it in the OpenAI API).
    public var contextLength: Int

    public init(
      baseURL: URL, model: String? = nil, token: String? = nil, connectTimeout: Duration = .seconds(10),
      totalTimeout: Duration = .seconds(600), idleTimeout: Duration = .seconds(120), maxRetries: Int = 3,
      retryBaseDelay: Duration = .milliseconds(500), maxRetryDelay: Duration = .seconds(20),
      maxConcurrentRequests: Int = 4, contextLength: Int = 8192
    ) {
      precondition(maxConcurrentRequests > 0 && maxRetries >= 0 && contextLength > 0)
      self.baseURL = baseURL
      self.model = model
      self.token = token
      self.connectTimeout = connectTimeout
      self.totalTimeout = totalTimeout
      self.idleTimeout = idleTimeout
      self.maxRetries = maxRetries
      self.retryBaseDelay = retryBaseDelay
      self.maxRetryDelay = maxRetryDelay
      self.maxConcurrentRequests = maxConcurrentRequests
      self.contextLength = contextLength
    }

    /// `{base}/v1/chat/completions`.
    public var chatCompletionsURL: String {
      var base = baseURL.absoluteString
      while base.hasSuffix("/") { base.removeLast() }
      if base.hasSuffix("/v1") { base.removeLast(3) }
      return base + "/v1/chat/completions"
    }
  }

  public let configuration: Configuration
  private let limiter: ConcurrencyLimiter
  /// Counts what a stream has delivered against its `maxTokens`.
  final class StreamLimit: Sendable {
    let maxTokens: Int
    private let state = Mutex((pieces: 0, bytes: 0))
    init(maxTokens: Int) { self.maxTokens = max(1, maxTokens) }
    /// True while `piece` still fits.
    func admit(_ piece: String) -> Bool {
      state.withLock { s in
        s.pieces += 1
        s.bytes += piece.utf8.count
        return s.pieces <= maxTokens && s.bytes <= 8 * maxTokens + 256
      }
    }
  }

  /// Set once when a stream was ended on purpose by the client.
  final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
  }
  private let load: LoadCounter

  public init(configuration: Configuration) {
    self.configuration = configuration
    self.limiter = ConcurrencyLimiter(limit: configuration.maxConcurrentRequests)
    self.load = LoadCounter()
  }

  public var identifier: String { configuration.model ?? configuration.baseURL.absoluteString }
  public var contextLength: Int { configuration.contextLength }
  /// Requests in flight or waiting for a slot.
  public var requestsInFlight: Int { load.value }

  /// An estimate: one token per 4 UTF-8 bytes, rounded up. The OpenAI API has no tokenizer
  /// endpoint; for English text with BPE vocabularies this errs slightly high, which is the
  /// safe side for context budgets.
  public func tokenCount(_ text: String) throws -> Int { (text.utf8.count + 3) / 4 }

  /// The estimate of `tokenCount` over every message plus 4 tokens per message for the chat
  /// template's role markers, plus 3 for the assistant header.
  public func promptTokenCount(_ messages: [ChatMessage]) throws -> Int {
    try messages.reduce(3) { $0 + 4 + (try tokenCount($1.content)) }
  }

  // MARK: Generation

  /// Streams the reply. The client enforces `maxTokens` itself: a server that ignores it
  /// (or streams forever) is cut off once it has sent `maxTokens` pieces or about twice
  /// that many tokens of text (4 bytes a token), whichever comes first (issue 11: one
  /// endpoint streamed 167 MB into the terminal).
  public func stream(_ messages: [ChatMessage], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error> {
    let body = requestBody(messages, parameters: parameters, stream: true)
    let limit = StreamLimit(maxTokens: parameters.maxTokens)
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          try await self.run(body: body, streaming: true, shouldContinue: { limit.admit($0) }) { continuation.yield($0) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// The whole reply from one non-streaming request (`stream: false`).
  public func complete(_ messages: [ChatMessage], parameters: GenerationParameters = .greedy()) async throws -> String {
    let text = Mutex("")
    try await run(body: requestBody(messages, parameters: parameters, stream: false), streaming: false) { piece in
      text.withLock { $0 += piece }
    }
    return text.withLock { $0 }
  }

  /// Sends one request with retries, calling `emit` (on the transfer thread) for each piece.
  /// When `shouldContinue` says no to a piece, that piece is dropped and the transfer ends
  /// normally (the text so far is the reply).
  func run(
    body: [UInt8], streaming: Bool, shouldContinue: @escaping @Sendable (String) -> Bool = { _ in true },
    emit: @escaping @Sendable (String) -> Void
  ) async throws {
    load.add(1)
    defer { load.add(-1) }
    try await limiter.acquire()
    defer { Task { [limiter] in await limiter.release() } }
    let url = configuration.chatCompletionsURL
    // "Expect:" stops curl from waiting a second for "100 Continue" before larger bodies.
    var headers = ["Content-Type: application/json", "Expect:", "Accept: \(streaming ? "text/event-stream" : "application/json")"]
    if let token = configuration.token { headers.append("Authorization: Bearer \(token)") }
    let request = TransferRequest(
      url: url, body: body, headers: headers, connectTimeout: configuration.connectTimeout,
      totalTimeout: configuration.totalTimeout, idleTimeout: configuration.idleTimeout)
    var attempt = 0
    while true {
      try Task.checkCancellation()
      let cancel = CancelFlag()
      let stopped = StopFlag()
      let outcome = await CurlTransfer.offload(cancel: cancel) {
        Self.attempt(request, streaming: streaming, cancel: cancel) { piece in
          guard shouldContinue(piece) else {
            stopped.set()
            cancel.set()
            return
          }
          emit(piece)
        }
      }
      if stopped.isSet { return }
      if outcome.cancelled { throw CancellationError() }
      guard let error = outcome.error else { return }
      guard error.isRetryable, outcome.emitted == 0, attempt < configuration.maxRetries else { throw error }
      try await Task.sleep(for: backoff(attempt: attempt, retryAfter: outcome.retryAfter))
      attempt += 1
    }
  }

  /// Delay before retry `attempt` (0-based): full-jitter exponential backoff, or the server's
  /// `Retry-After` when it is longer (capped at `maxRetryDelay`).
  func backoff(attempt: Int, retryAfter: Duration?) -> Duration {
    let cap = configuration.maxRetryDelay
    var d = configuration.retryBaseDelay * (1 << min(attempt, 20))
    if d > cap { d = cap }
    let ms = max(1, d.milliseconds)
    var delay = Duration.milliseconds(Int.random(in: (ms / 2)...ms))
    if let retryAfter, retryAfter > delay { delay = min(retryAfter, cap) }
    return delay
  }

  struct AttemptOutcome: Sendable {
    var error: LLMError?
    var emitted: Int
    var cancelled: Bool
    var retryAfter: Duration?
  }

  /// One blocking attempt, on the transfer thread.
  static func attempt(
    _ request: TransferRequest, streaming: Bool, cancel: CancelFlag, emit: @escaping @Sendable (String) -> Void
  ) -> AttemptOutcome {
    var parser = SSEParser()
    var raw: [UInt8] = []  // error bodies and non-streamed JSON
    var emitted = 0
    var sawDone = false
    var sawEvent = false
    var streamError: LLMError?
    let url = request.url

    func handle(event: String) -> Bool {
      sawEvent = true
      if event == "[DONE]" {
        sawDone = true
        return true
      }
      guard let chunk = try? JSONDecoder().decode(StreamChunk.self, from: Data(event.utf8)) else {
        streamError = LLMError(
          code: .invalidResponse, endpoint: url, status: 200, body: String(event.prefix(LLMError.bodyLimit)),
          isRetryable: false, detail: "an SSE event is not a chat.completion.chunk")
        return false
      }
      if let error = chunk.error {
        streamError = LLMError(code: .serverError, endpoint: url, status: 200, isRetryable: false, detail: error.message ?? "unknown error")
        return false
      }
      if let piece = chunk.choices?.first?.delta?.content, !piece.isEmpty {
        emitted += 1
        emit(piece)
      }
      return true
    }

    var head: [UInt8] = []  // the first bytes of any body, for error messages
    let result = CurlTransfer.perform(request, cancel: cancel) { status, contentType, bytes in
      if head.count < LLMError.bodyLimit { head.append(contentsOf: bytes.prefix(LLMError.bodyLimit - head.count)) }
      let isJSON = contentType.map { $0.lowercased().contains("json") } ?? false
      if !(200..<300).contains(status) || !streaming || isJSON {
        if raw.count < 16 << 20 { raw.append(contentsOf: bytes) }
        return true
      }
      for event in parser.feed(bytes) where !handle(event: event) { return false }
      return true
    }
    var outcome = AttemptOutcome(error: nil, emitted: emitted, cancelled: result.cancelled, retryAfter: result.retryAfter)
    if result.cancelled { return outcome }
    if let streamError {
      outcome.error = streamError
      return outcome
    }
    if var failure = result.failure {
      failure.requestID = result.requestID
      if !(200..<300).contains(result.status), result.status != 0, failure.code == .transport {
        failure.status = result.status
      }
      if streaming, sawEvent, !sawDone, failure.code == .transport {
        failure = LLMError(
          code: .streamTruncated, endpoint: url, status: result.status, requestID: result.requestID,
          isRetryable: emitted == 0, detail: "\(emitted) pieces received; \(failure.detail)")
      }
      outcome.error = failure
      return outcome
    }
    let status = result.status
    if !(200..<300).contains(status) {
      let retryable = status == 429 || status == 408 || status >= 500
      outcome.error = LLMError(
        code: .httpStatus, endpoint: url, status: status, body: LLMError.bodyPrefix(raw), requestID: result.requestID,
        isRetryable: retryable, detail: Self.errorMessage(in: raw) ?? "")
      return outcome
    }
    if streaming {
      for event in parser.finish() where !handle(event: event) { break }
      if let streamError {
        outcome.error = streamError
        outcome.emitted = emitted
        return outcome
      }
      outcome.emitted = emitted
      if sawDone { return outcome }
      if !sawEvent {
        // Perhaps a server that ignores `stream: true` and answered with JSON.
        if !raw.isEmpty, let text = try? Self.messageContent(raw) {
          emit(text)
          outcome.emitted = 1
          return outcome
        }
        outcome.error = LLMError(
          code: .invalidResponse, endpoint: url, status: status, body: LLMError.bodyPrefix(head), requestID: result.requestID,
          isRetryable: false, detail: "expected an SSE stream of chat.completion.chunk events")
        return outcome
      }
      outcome.error = LLMError(
        code: .streamTruncated, endpoint: url, status: status, requestID: result.requestID, isRetryable: emitted == 0,
        detail: "\(emitted) pieces received")
      return outcome
    }
    do {
      let text = try messageContent(raw)
      emit(text)
      outcome.emitted = 1
    } catch {
      outcome.error = LLMError(
        code: .invalidResponse, endpoint: url, status: status, body: LLMError.bodyPrefix(raw), requestID: result.requestID,
        isRetryable: false, detail: "expected a chat.completion JSON object")
    }
    return outcome
  }

  static func messageContent(_ raw: [UInt8]) throws -> String {
    let completion = try JSONDecoder().decode(Completion.self, from: Data(raw))
    guard let choice = completion.choices.first else { throw DecodingError.valueNotFound(String.self, .init(codingPath: [], debugDescription: "no choices")) }
    return choice.message.content ?? ""
  }

  static func errorMessage(in raw: [UInt8]) -> String? {
    (try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(raw)))?.error.message
  }

  func requestBody(_ messages: [ChatMessage], parameters: GenerationParameters, stream: Bool) -> [UInt8] {
    let request = ChatCompletionRequest(
      model: configuration.model ?? "default",
      messages: messages.map { .init(role: $0.role.rawValue, content: $0.content) },
      max_tokens: parameters.maxTokens, temperature: parameters.temperature,
      top_p: parameters.temperature == 0 ? nil : parameters.topP,
      stop: parameters.stop.isEmpty ? nil : parameters.stop, seed: parameters.seed, stream: stream)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? Array(encoder.encode(request))) ?? []
  }
}

// MARK: Wire shapes (OpenAI chat completions)

struct ChatCompletionRequest: Encodable {
  struct Message: Encodable {
    var role: String
    var content: String
  }
  var model: String
  var messages: [Message]
  var max_tokens: Int
  var temperature: Double
  var top_p: Double?
  var stop: [String]?
  var seed: UInt64?
  var stream: Bool
}

struct StreamChunk: Decodable {
  struct Choice: Decodable {
    struct Delta: Decodable { var content: String? }
    var delta: Delta?
    var finish_reason: String?
  }
  struct Failure: Decodable { var message: String? }
  var choices: [Choice]?
  var error: Failure?
}

struct Completion: Decodable {
  struct Choice: Decodable {
    struct Message: Decodable { var content: String? }
    var message: Message
  }
  var choices: [Choice]
}

struct ErrorEnvelope: Decodable {
  struct Body: Decodable { var message: String? }
  var error: Body
}

// MARK: Concurrency limits

/// Counts requests in flight (for least-busy endpoint choice).
final class LoadCounter: Sendable {
  private let count = Atomic<Int>(0)
  func add(_ n: Int) { count.add(n, ordering: .relaxed) }
  var value: Int { count.load(ordering: .relaxed) }
}

/// A counting semaphore for async code: at most `limit` holders; waiters are served in order
/// and leave the queue when their task is cancelled.
actor ConcurrencyLimiter {
  private var available: Int
  private var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
  private var nextID = 0

  init(limit: Int) { available = limit }

  func acquire() async throws {
    if available > 0 {
      available -= 1
      return
    }
    let id = nextID
    nextID += 1
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        if Task.isCancelled {
          continuation.resume(throwing: CancellationError())
        } else {
          waiters.append((id, continuation))
        }
      }
    } onCancel: {
      Task { await self.cancelWaiter(id) }
    }
  }

  func release() {
    if waiters.isEmpty {
      available += 1
    } else {
      waiters.removeFirst().continuation.resume()
    }
  }

  private func cancelWaiter(_ id: Int) {
    guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
    waiters.remove(at: i).continuation.resume(throwing: CancellationError())
  }
}
