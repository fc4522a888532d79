public import TomeCore
import Foundation

/// How and why a generation ended.
public struct GenerationResult: Sendable, Hashable {
  public enum FinishReason: Sendable, Hashable {
    /// An end-of-turn/end-of-text token.
    case stopToken
    /// One of `GenerationParameters.stop` appeared.
    case stopString
    /// `maxTokens` reached.
    case maxTokens
    /// The context window is full.
    case contextFull
    /// The consumer stopped listening.
    case cancelled
  }

  /// Generated token ids (the stop token excluded).
  public var tokens: [Int]
  /// Emitted text.
  public var text: String
  public var finishReason: FinishReason
}

extension LlamaContext {
  /// Ids that end generation by default: EOS, EOT and the template's end-of-turn tokens.
  public var defaultStopTokens: Set<Int> {
    let t = model.tokenizer
    var s = Set([t.eosID, t.eotID].compactMap { $0 })
    for text in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"] {
      if let id = t.id(of: text), t.isControl(id) { s.insert(id) }
    }
    return s
  }

  /// Appends `prompt`, then samples up to `parameters.maxTokens` tokens, calling `onText`
  /// with each newly completed piece of text (never a split UTF-8 character, never part of
  /// a stop string). Return `false` from `onText` to stop.
  ///
  /// - Throws: `ModelError` when the prompt does not fit the context.
  @discardableResult
  public func generate(
    prompt: [Int], parameters: GenerationParameters, stopTokens: Set<Int>? = nil,
    onText: (String) -> Bool
  ) throws(ModelError) -> GenerationResult {
    let stops = stopTokens ?? defaultStopTokens
    var sampler = Sampler(parameters: parameters)
    var logits: [Float]
    if prompt.isEmpty {
      guard let last = tokens.last else { throw ModelError(.invalidArgument, "nothing to continue: empty prompt and empty cache") }
      // Recompute the last position's logits.
      truncate(to: position - 1)
      logits = try evaluate([last])
    } else {
      // The last prompt token always goes through the single-token path, so a later request
      // that reuses the cached prompt (LocalLanguageModel's prefix reuse) computes exactly
      // the same logits, and a seed gives the same text whether or not the cache was reused.
      if prompt.count > 1 { try evaluate(Array(prompt.dropLast()), logits: .none) }
      logits = try evaluate([prompt[prompt.count - 1]])
    }
    var decoder = StreamingDecoder(tokenizer: model.tokenizer)
    var generated: [Int] = []
    var text = ""
    var pending = ""
    let stopStrings = parameters.stop.filter { !$0.isEmpty }
    var reason = GenerationResult.FinishReason.maxTokens

    func emit(_ s: String) -> Bool {
      guard !s.isEmpty else { return true }
      text += s
      return onText(s)
    }

    loop: while generated.count < parameters.maxTokens {
      let token = sampler.sample(logits, history: tokens)
      if stops.contains(token) {
        reason = .stopToken
        break
      }
      generated.append(token)
      pending += decoder.append(token)
      if !stopStrings.isEmpty {
        if let cut = Self.firstStop(in: pending, stops: stopStrings) {
          _ = emit(String(pending[..<cut]))
          pending = ""
          reason = .stopString
          break loop
        }
        let hold = Self.heldBack(pending, stops: stopStrings)
        let ready = String(pending.dropLast(hold))
        pending = String(pending.suffix(hold))
        if !emit(ready) {
          reason = .cancelled
          break
        }
      } else {
        let ready = pending
        pending = ""
        if !emit(ready) {
          reason = .cancelled
          break
        }
      }
      if generated.count >= parameters.maxTokens { break }
      if position >= model.configuration.contextLength {
        reason = .contextFull
        break
      }
      logits = try evaluate([token])
    }
    if reason != .stopString && reason != .cancelled { _ = emit(pending + decoder.flush()) }
    return GenerationResult(tokens: generated, text: text, finishReason: reason)
  }

  static func firstStop(in s: String, stops: [String]) -> String.Index? {
    var best: String.Index?
    for stop in stops {
      if let r = s.range(of: stop), best.map({ r.lowerBound < $0 }) ?? true { best = r.lowerBound }
    }
    return best
  }

  /// Characters at the end of `s` that could begin a stop string.
  static func heldBack(_ s: String, stops: [String]) -> Int {
    var hold = 0
    for stop in stops {
      var n = min(stop.count - 1, s.count)
      while n > hold {
        if s.hasSuffix(stop.prefix(n)) {
          hold = n
          break
        }
        n -= 1
      }
    }
    return hold
  }
}
