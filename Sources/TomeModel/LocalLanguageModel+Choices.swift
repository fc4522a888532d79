public import TomeCore
import Foundation

extension LocalLanguageModel: ChoiceScoring {
  /// Reads the prompt once (reusing a cached prefix like `stream`), then scores each option by
  /// evaluating its tokens after the prompt and truncating back, so n options cost one prefill
  /// plus their own tokens. Runs on its own thread, like `stream`.
  public func logProbabilities(of options: [String], after messages: [ChatMessage]) async throws -> [Double] {
    let prompt = try promptTokens(messages)
    let encoded = options.map { tokenize($0) }
    let model = self.model
    let reuse = self.reuse
    return try await withCheckedThrowingContinuation { continuation in
      let thread = Thread {
        do {
          let context = reuse.take() ?? model.makeContext()
          let scores = try Self.score(encoded, after: prompt, in: context)
          reuse.put(context)
          continuation.resume(returning: scores)
        } catch {
          continuation.resume(throwing: error)
        }
      }
      thread.stackSize = 8 << 20
      thread.start()
    }
  }

  /// Summed log-probabilities of each token list after `prompt`, on `context` (left holding
  /// the prompt, for the next call's prefix reuse).
  static func score(_ options: [[Int]], after prompt: [Int], in context: LlamaContext) throws -> [Double] {
    guard !prompt.isEmpty else { throw ModelError(.invalidArgument, "an empty prompt cannot be scored") }
    var shared = 0
    let cached = context.cachedTokens
    while shared < min(cached.count, prompt.count - 1) && cached[shared] == prompt[shared] { shared += 1 }
    context.truncate(to: shared)
    if prompt.count - shared > 1 { try context.evaluate(Array(prompt[shared..<(prompt.count - 1)]), logits: .none) }
    let first = try context.evaluate([prompt[prompt.count - 1]])
    let base = context.position
    return try options.map { tokens in
      guard let head = tokens.first else { return -.infinity }
      var total = logSoftmax(first, at: head)
      for (previous, next) in zip(tokens, tokens.dropFirst()) {
        total += logSoftmax(try context.evaluate([previous]), at: next)
      }
      context.truncate(to: base)
      return total
    }
  }

  /// log softmax(logits)[index], computed in double precision.
  static func logSoftmax(_ logits: [Float], at index: Int) -> Double {
    let peak = Double(logits.max() ?? 0)
    var sum = 0.0
    for value in logits { sum += Foundation.exp(Double(value) - peak) }
    return Double(logits[index]) - peak - Foundation.log(sum)
  }
}
