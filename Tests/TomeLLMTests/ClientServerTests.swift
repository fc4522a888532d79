import Foundation
import Synchronization
import Testing
import TomeCore
import TomeKit
@testable import TomeLLM
import TomeServe
import TomeTestSupport

/// A real `TomeServer` over the real SmolLM2 model on a free loopback port, for one test.
struct RunningServer {
  let url: URL
  let task: Task<Void, any Error>

  static let model: Result<any LanguageModel, any Error> = Result {
    try ModelDirectory(url: SharedData.models).loadChatModel()
  }

  static func start(_ configuration: TomeServer.Configuration = .init(port: 0)) async throws -> RunningServer {
    let server = try TomeServer(model: try model.get(), configuration: configuration)
    let (urls, continuation) = AsyncStream.makeStream(of: String.self)
    let task = Task { try await server.run(handleSignals: false) { continuation.yield($0) } }
    for await url in urls { return RunningServer(url: URL(string: url)!, task: task) }
    task.cancel()
    throw CancellationError()
  }

  func client(token: String? = nil, maxRetries: Int = 0) -> OpenAIClient {
    OpenAIClient(configuration: .init(baseURL: url, token: token, maxRetries: maxRetries, retryBaseDelay: .milliseconds(20)))
  }

  func stop() { task.cancel() }
}

let modelAvailable = FileManager.default.fileExists(
  atPath: SharedData.models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path)

@Suite(.serialized, .timeLimit(.minutes(15)))
struct ClientServerTests {
  let question: [ChatMessage] = [.user("Name three colours.")]

  @Test("streamed and non-streamed greedy replies are the same, non-empty text", .enabled(if: modelAvailable))
  func streamedEqualsComplete() async throws {
    let server = try await RunningServer.start()
    defer { server.stop() }
    let client = server.client()
    let parameters = GenerationParameters.greedy(maxTokens: 24)
    var pieces: [String] = []
    for try await piece in client.stream(question, parameters: parameters) { pieces.append(piece) }
    let whole = try await client.complete(question, parameters: parameters)
    #expect(pieces.count > 1)
    #expect(!whole.isEmpty)
    #expect(pieces.joined() == whole)
  }

  @Test("breaking out of a stream stops generation promptly", .enabled(if: modelAvailable))
  func cancellation() async throws {
    let server = try await RunningServer.start(.init(port: 0, maxQueue: 0))
    defer { server.stop() }
    let client = server.client()
    for try await _ in client.stream(question, parameters: .greedy(maxTokens: 6000)) { break }
    // The server's single generation slot is free again long before 6,000 tokens could have
    // been generated: a new request is admitted (maxQueue 0 answers 503 while one generates).
    // The bound is generous so a loaded machine does not fail it; without cancellation the
    // slot would stay busy for minutes.
    let start = ContinuousClock.now
    var reply: String?
    while reply == nil, ContinuousClock.now - start < .seconds(20) {
      do {
        reply = try await client.complete(question, parameters: .greedy(maxTokens: 4))
      } catch let error as LLMError where error.status == 503 || error.isRetryable {
        // Busy (503), or a connection refused while a loaded CI machine is slow to accept.
        try await Task.sleep(for: .milliseconds(50))
      }
    }
    #expect(reply != nil)
  }

  @Test("a full queue answers 503", .enabled(if: modelAvailable))
  func queueFull() async throws {
    let server = try await RunningServer.start(.init(port: 0, maxQueue: 0))
    defer { server.stop() }
    let client = server.client()
    let (started, signal) = AsyncStream<Void>.makeStream()
    let first = Task {
      defer { signal.finish() }
      var n = 0
      for try await _ in client.stream(question, parameters: .greedy(maxTokens: 2000)) {
        n += 1
        if n == 1 {
          signal.yield()
          try await Task.sleep(for: .seconds(30))
        }
      }
    }
    defer { first.cancel() }
    // The first request holds the only generation slot once its first token has arrived (a
    // fixed 300 ms wait lost that race on a loaded CI machine, and the second was admitted).
    var tokens = started.makeAsyncIterator()
    #expect(await tokens.next() != nil, "the first request produced no token")
    let error = await #expect(throws: LLMError.self) {
      _ = try await client.complete(question, parameters: .greedy(maxTokens: 4))
    }
    #expect(error?.status == 503)
    #expect(error?.isRetryable == true)
  }

  @Test("a token-protected server answers 401 without the token", .enabled(if: modelAvailable))
  func unauthorized() async throws {
    let server = try await RunningServer.start(.init(port: 0, token: "sesame"))
    defer { server.stop() }
    let error = await #expect(throws: LLMError.self) {
      _ = try await server.client().complete(question, parameters: .greedy(maxTokens: 4))
    }
    #expect(error?.status == 401)
    #expect(error?.isRetryable == false)
    let reply = try await server.client(token: "sesame").complete(question, parameters: .greedy(maxTokens: 4))
    #expect(!reply.isEmpty)
  }

  @Test("an oversized body answers 413", .enabled(if: modelAvailable))
  func tooLarge() async throws {
    let server = try await RunningServer.start(.init(port: 0, maxBodyBytes: 4096))
    defer { server.stop() }
    let error = await #expect(throws: LLMError.self) {
      _ = try await server.client().complete([.user(String(repeating: "x", count: 10_000))])
    }
    #expect(error?.status == 413)
  }

  @Test("a non-loopback bind without a token is refused", .enabled(if: modelAvailable))
  func nonLoopbackNeedsToken() throws {
    #expect(throws: ServeError.self) {
      _ = try TomeServer(model: try RunningServer.model.get(), configuration: .init(host: "0.0.0.0", port: 0))
    }
  }
}

@Suite(.timeLimit(.minutes(15)))
struct ClientFailureTests {
  let messages: [ChatMessage] = [.user("hi")]

  func client(_ url: URL, retries: Int = 0, idle: Duration = .seconds(10)) -> OpenAIClient {
    OpenAIClient(configuration: .init(baseURL: url, idleTimeout: idle, maxRetries: retries, retryBaseDelay: .milliseconds(10)))
  }

  @Test("an endpoint that is down is named in the error")
  func endpointDown() async throws {
    let error = await #expect(throws: LLMError.self) {
      _ = try await client(URL(string: "http://127.0.0.1:9")!).reply(to: messages)
    }
    #expect(error?.code == .connectionFailed)
    #expect(error?.isRetryable == true)
    #expect(error?.description == "cannot connect to http://127.0.0.1:9/v1/chat/completions: Connection refused")
  }

  @Test("garbage SSE data is an invalid response")
  func garbageEvent() async throws {
    let stub = try StubServer([.bytes(Canned.sse("data: {not json\n\n"))])
    defer { stub.stop() }
    let error = await #expect(throws: LLMError.self) { _ = try await client(stub.baseURL).reply(to: messages) }
    #expect(error?.code == .invalidResponse)
    #expect(error?.description.hasPrefix("garbage response from http://127.0.0.1:\(stub.port)/v1/chat/completions") == true)
  }

  @Test("a reply that is not HTTP is an invalid response")
  func notHTTP() async throws {
    let stub = try StubServer([.bytes("hello, I am not a web server\n")])
    defer { stub.stop() }
    let error = await #expect(throws: LLMError.self) { _ = try await client(stub.baseURL).reply(to: messages) }
    #expect(error?.code == .invalidResponse)
  }

  @Test("a 200 with a non-JSON body to a non-streamed request is an invalid response")
  func garbageJSON() async throws {
    let stub = try StubServer([.bytes(Canned.status(200, "OK", body: "<html>oops</html>"))])
    defer { stub.stop() }
    let error = await #expect(throws: LLMError.self) { _ = try await client(stub.baseURL).complete(messages) }
    #expect(error?.code == .invalidResponse)
    #expect(error?.body == "<html>oops</html>")
  }

  @Test("a stream closed before [DONE] is an error, after the pieces that arrived")
  func halfClosed() async throws {
    let stub = try StubServer([.bytes(Canned.sse(Canned.chunk("Hel") + Canned.chunk("lo")))])
    defer { stub.stop() }
    var pieces: [String] = []
    let error = await #expect(throws: LLMError.self) {
      for try await piece in client(stub.baseURL, retries: 3).stream(messages, parameters: .greedy()) { pieces.append(piece) }
    }
    #expect(pieces == ["Hel", "lo"])
    #expect(error?.code == .streamTruncated)
    #expect(error?.description.contains("stream ended before [DONE]") == true)
    #expect(stub.connections == 1, "no retry once text was handed out")
  }

  @Test("500, then 429, then success: retried")
  func retried() async throws {
    let stub = try StubServer([
      .bytes(Canned.status(500, "Internal Server Error", body: #"{"error":{"message":"boom"}}"#)),
      .bytes(Canned.status(429, "Too Many Requests", body: "{}")),
      .bytes(Canned.sse(Canned.chunk("ok") + "data: [DONE]\n\n")),
    ])
    defer { stub.stop() }
    let reply = try await client(stub.baseURL, retries: 3).reply(to: messages)
    #expect(reply == "ok")
    #expect(stub.connections == 3)
  }

  @Test("retries give up with the last HTTP error")
  func retriesExhausted() async throws {
    let stub = try StubServer([.bytes(Canned.status(500, "Internal Server Error", body: #"{"error":{"message":"boom"}}"#))])
    defer { stub.stop() }
    let error = await #expect(throws: LLMError.self) { _ = try await client(stub.baseURL, retries: 2).reply(to: messages) }
    #expect(error?.status == 500)
    #expect(error?.description.contains("boom") == true)
    #expect(stub.connections == 3)
  }

  @Test("a silent server hits the idle timeout")
  func idleTimeout() async throws {
    // The server stays silent for a minute; only the 1 s idle timeout can end the request
    // with `.timeout` (the server closing would be a different error).
    let stub = try StubServer([.silence(.seconds(60))])
    defer { stub.stop() }
    let error = await #expect(throws: LLMError.self) {
      _ = try await client(stub.baseURL, idle: .seconds(1)).reply(to: messages)
    }
    #expect(error?.code == .timeout)
  }

  @Test("cancelling the consumer aborts a silent transfer promptly")
  func cancelSilent() async throws {
    // Silent for five minutes, with an idle timeout longer still: only the cancellation can end
    // the request early. (With the default 10 s timeout a loaded CI run, whose cooperative
    // threads were held by CPU-heavy tests, timed out before it cancelled.)
    let stub = try StubServer([.silence(.seconds(300))])
    defer { stub.stop() }
    let c = client(stub.baseURL, idle: .seconds(600))
    let task = Task { try await c.complete(messages) }
    try await Task.sleep(for: .milliseconds(300))
    let start = ContinuousClock.now
    task.cancel()
    let result = await task.result
    #expect(throws: CancellationError.self) { try result.get() }
    #expect(ContinuousClock.now - start < .seconds(200))
  }

  @Test("the endpoint pool skips an endpoint that is down")
  func poolFailover() async throws {
    let stub = try StubServer([.bytes(Canned.sse(Canned.chunk("pooled") + "data: [DONE]\n\n"))])
    defer { stub.stop() }
    // A cooldown no loaded CI machine outlasts: the whole suite can hold the cooperative
    // threads for minutes, and the default 30 s expired before the check once.
    let pool = EndpointPool(clients: [client(URL(string: "http://127.0.0.1:9")!), client(stub.baseURL)], cooldown: .seconds(3600))
    #expect(try await pool.reply(to: messages) == "pooled")
    #expect(pool.nextEndpoint() == 1, "the failed endpoint is skipped during its cooldown")
  }
}

@Suite(.timeLimit(.minutes(15)))
struct ServeCommandTests {
  @Test("`tome serve --port 0` prints its URL, answers the client, and stops on SIGINT", .enabled(if: modelAvailable))
  func serveBinary() async throws {
    let directory = FileManager.default.temporaryDirectory
    let (process, out, _) = try TomeBinary.start(
      ["serve", "--port", "0", "--models", SharedData.models.path], in: directory)
    defer { if process.isRunning { process.terminate() } }
    // Bounded read of the first line.
    var line = Data()
    for _ in 0..<200 where !line.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      line.append(chunk)
    }
    let text = String(decoding: line, as: UTF8.self)
    let match = try #require(text.firstMatch(of: /listening on (http:\/\/127\.0\.0\.1:\d+)/))
    let client = OpenAIClient(configuration: .init(baseURL: try #require(URL(string: String(match.1))), maxRetries: 0))
    let reply = try await client.complete([.user("Hi")], parameters: .greedy(maxTokens: 4))
    #expect(!reply.isEmpty)
    kill(process.processIdentifier, SIGINT)
    let start = ContinuousClock.now
    while process.isRunning, ContinuousClock.now - start < .seconds(10) { try await Task.sleep(for: .milliseconds(50)) }
    #expect(!process.isRunning)
    #expect(process.terminationStatus == 0)
  }
}
