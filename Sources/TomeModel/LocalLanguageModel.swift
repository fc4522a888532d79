public import TomeCore
import Foundation
import Synchronization

/// The in-process GGUF model behind TomeCore's `LanguageModel` seam.
///
/// ```swift
/// let lm = try LocalLanguageModel(path: "/root/.cache/tome/models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// for try await piece in lm.stream([.user("Hi")], parameters: .greedy(maxTokens: 64)) {
///   print(piece, terminator: "")
/// }
/// ```
/// Each `stream` call runs on its own thread (the cooperative pool stays free); cancelling the
/// consuming task stops generation at the next token. The last finished context is kept, and
/// a new prompt that shares a prefix with it (same document, another question; a follow-up
/// chat turn) reuses that prefix's KV cache instead of recomputing it.
public struct LocalLanguageModel: LanguageModel, KVPaging {
  public let model: LlamaModel
  public let template: ChatTemplate
  let reuse = ContextSlot()

  /// Wraps `model`; the template is detected from the file unless given.
  /// - Throws: `ModelError.unknownChatTemplate` when detection fails (pass `template`).
  public init(model: LlamaModel, template: ChatTemplate? = nil) throws(ModelError) {
    self.model = model
    if let template {
      self.template = template
    } else {
      self.template = try ChatTemplate(gguf: model.file)
    }
  }

  public init(path: String, template: ChatTemplate? = nil) throws(ModelError) {
    try self.init(model: try LlamaModel(path: path), template: template)
  }

  public var identifier: String { model.identifier }
  public var contextLength: Int { model.configuration.contextLength }

  public func tokenCount(_ text: String) throws -> Int { model.tokenizer.count(text) }

  public func promptTokenCount(_ messages: [ChatMessage]) throws -> Int { try promptTokens(messages).count }

  public func tokenize(_ text: String) -> [Int] { model.tokenizer.encode(text, addSpecial: false) }

  public func promptTokens(_ messages: [ChatMessage]) throws -> [Int] {
    model.tokenizer.encode(template.render(messages), parseSpecial: true, addSpecial: true)
  }

  public func makeSequence() -> LlamaContext { model.makeContext() }

  public func stream(_ messages: [ChatMessage], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error> {
    let prompt: [Int]
    do { prompt = try promptTokens(messages) } catch {
      return AsyncThrowingStream { $0.finish(throwing: error) }
    }
    return Self.stream(model: model, prompt: prompt, parameters: parameters, reuse: reuse)
  }

  /// Streams the continuation of raw `prompt` tokens (no chat template).
  public func stream(prompt: [Int], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error> {
    Self.stream(model: model, prompt: prompt, parameters: parameters, reuse: reuse)
  }

  static func stream(
    model: LlamaModel, prompt: [Int], parameters: GenerationParameters, reuse: ContextSlot
  ) -> AsyncThrowingStream<String, any Error> {
    streamOnThread(model: model, reuse: reuse) { context, emit in
      // Keep the longest cached prefix (at least one prompt token is evaluated, for logits).
      var shared = 0
      let cached = context.cachedTokens
      while shared < min(cached.count, prompt.count - 1) && cached[shared] == prompt[shared] { shared += 1 }
      context.truncate(to: shared)
      try context.generate(prompt: Array(prompt[shared...]), parameters: parameters, onText: emit)
    }
  }

  /// Runs `body` on a thread of its own (the cooperative pool stays free) with the parked
  /// context, or a new one, streaming the text it emits; `emit` returns false once the
  /// consumer has gone. The context is parked again when `body` returns.
  static func streamOnThread(
    model: LlamaModel, reuse: ContextSlot,
    _ body: @escaping @Sendable (LlamaContext, (String) -> Bool) throws -> Void
  ) -> AsyncThrowingStream<String, any Error> {
    let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
    let cancelled = CancellationFlag()
    continuation.onTermination = { _ in cancelled.cancel() }
    let thread = Thread {
      do {
        let context = reuse.take() ?? model.makeContext()
        try body(context) { piece in
          guard !cancelled.isCancelled else { return false }
          if case .terminated = continuation.yield(piece) { return false }
          return true
        }
        reuse.put(context)
        continuation.finish()
      } catch {
        continuation.finish(throwing: error)
      }
    }
    thread.stackSize = 8 << 20
    thread.start()
    return stream
  }
}

/// Holds one idle context for prefix reuse between requests.
final class ContextSlot: Sendable {
  /// `@unchecked Sendable`: a parked context is used by no one; whoever takes it out of the
  /// slot is its only user until it puts it back.
  private struct Parked: @unchecked Sendable { let context: LlamaContext }
  private let slot = Mutex<Parked?>(nil)

  /// The idle context, if any (the slot is left empty).
  func take() -> LlamaContext? { slot.withLock { $0.take() }?.context }

  /// Parks `context` for the next request (replacing an older one).
  func put(_ context: LlamaContext) {
    let parked = Parked(context: context)
    slot.withLock { $0 = parked }
  }
}

/// Set when a stream's consumer goes away; read by the generating thread before each token.
final class CancellationFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  func cancel() { flag.store(true, ordering: .relaxed) }
  var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Counts tokens with a model's own tokenizer (special-token texts parsed, no BOS), for
/// prompt budgets measured in the generator's tokens.
public struct ModelTokenCounter: TokenCounter {
  public let tokenizer: Tokenizer
  public let identifier: String

  public init(model: LlamaModel) {
    tokenizer = model.tokenizer
    identifier = "gguf:\(model.identifier)"
  }

  public func tokenCount(_ text: Substring) -> Int { tokenizer.count(String(text)) }
}

extension LocalLanguageModel {
  /// A `TokenCounter` over this model's tokenizer.
  public var tokenCounter: ModelTokenCounter { ModelTokenCounter(model: model) }
}
