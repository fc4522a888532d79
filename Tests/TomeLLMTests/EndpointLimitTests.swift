import Foundation
import Testing
import TomeCore
@testable import TomeLLM

/// Issue 11: an endpoint that ignores `max_tokens` cannot flood the client, and one that
/// goes silent fails once, not once per retry.
@Suite(.timeLimit(.minutes(15))) struct EndpointLimitTests {
  @Test("a streaming endpoint that ignores max_tokens is cut off at the limit")
  func streamIgnoresMaxTokens() async throws {
    // 20,000 pieces and no [DONE]: a server that never stops on its own.
    let stub = try StubServer([.bytes(Canned.sse(String(repeating: Canned.chunk("word "), count: 20_000)))])
    defer { stub.stop() }
    let client = OpenAIClient(configuration: .init(baseURL: stub.baseURL, maxRetries: 0))
    var pieces = 0
    var bytes = 0
    for try await piece in client.stream([.user("hi")], parameters: .greedy(maxTokens: 16)) {
      pieces += 1
      bytes += piece.utf8.count
    }
    #expect(pieces == 16, "\(pieces) pieces, \(bytes) bytes")
    // Huge pieces are bounded by bytes too.
    let fat = try StubServer([.bytes(Canned.sse(String(repeating: Canned.chunk(String(repeating: "x", count: 4000)), count: 50)))])
    defer { fat.stop() }
    var fatBytes = 0
    for try await piece in OpenAIClient(configuration: .init(baseURL: fat.baseURL, maxRetries: 0)).stream([.user("hi")], parameters: .greedy(maxTokens: 16)) {
      fatBytes += piece.utf8.count
    }
    #expect(fatBytes <= 8 * 16 + 256 + 4000, "\(fatBytes) bytes")
  }

  @Test("a silent endpoint fails after the idle timeout once, without retrying")
  func silentNotRetried() async throws {
    let stub = try StubServer([.silence(.seconds(60))])
    defer { stub.stop() }
    let client = OpenAIClient(configuration: .init(baseURL: stub.baseURL, idleTimeout: .seconds(1), maxRetries: 3, retryBaseDelay: .milliseconds(10)))
    let error = await #expect(throws: LLMError.self) { _ = try await client.reply(to: [.user("hi")]) }
    #expect(error?.code == .timeout)
    #expect(stub.connections == 1)
    // No wall-clock bound: CPU-heavy tests can hold both cooperative threads of a 2-core runner
    // for a minute and more (a CI run measured 94 s here while the timeout itself had fired).
    // The timeout error and the single connection are what show it gave up once, unretried.
  }
}
