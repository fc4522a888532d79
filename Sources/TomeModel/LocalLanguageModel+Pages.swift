public import TomeCore
import Foundation

/// One run of a paged prompt: tokens to evaluate, or a stored page to import.
enum PromptSegment: Equatable, Sendable {
  case tokens([Int])
  case page(KVPage)
}

extension LocalLanguageModel: PagedPrompting {
  public func stream(_ prompt: PagedPrompt, parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error> {
    let parts: [PromptSegment]
    do { parts = try self.parts(of: prompt) } catch {
      return AsyncThrowingStream { $0.finish(throwing: error) }
    }
    return Self.streamOnThread(model: model, reuse: reuse) { context, emit in
      guard case .tokens(let head) = parts.first, case .tokens(let tail) = parts.last, parts.count > 1, !tail.isEmpty else {
        throw ModelError(.invalidArgument, "a paged prompt starts and ends with text")
      }
      var shared = 0
      let cached = context.cachedTokens
      while shared < min(cached.count, head.count) && cached[shared] == head[shared] { shared += 1 }
      context.truncate(to: shared)
      // Everything but the head's cached prefix and the last token in one pass (pages written,
      // runs computed together); the last token starts generation as in any prompt.
      var middle: [PromptSegment] = shared < head.count ? [.tokens(Array(head[shared...]))] : []
      middle += parts.dropFirst().dropLast()
      if tail.count > 1 { middle.append(.tokens(Array(tail.dropLast()))) }
      try context.append(segments: middle)
      try context.generate(prompt: [tail[tail.count - 1]], parameters: parameters, onText: emit)
      // Only the head is computed as any prompt would compute it: imported keys and values
      // must not be reused as if a later prompt had computed them.
      context.truncate(to: head.count)
    }
  }

  /// `prompt` rendered with the chat template and cut at its placeholders: the text between
  /// them tokenized (BOS first), each page in its placeholder's place.
  /// - Throws: `ModelError.invalidArgument` when a placeholder is missing or a page belongs
  ///   to another model.
  func parts(of prompt: PagedPrompt) throws(ModelError) -> [PromptSegment] {
    let text = template.render(prompt.messages)
    var found: [(range: Range<String.Index>, run: PagedPrompt.Run)] = []
    for (placeholder, run) in prompt.runs {
      guard let range = text.range(of: placeholder) else {
        throw ModelError(.invalidArgument, "paged prompt: placeholder \(placeholder.debugDescription) not in the messages")
      }
      if case .page(let page) = run, page.modelIdentifier != identifier {
        throw ModelError(.invalidArgument, "KV page of model '\(page.modelIdentifier)' in a prompt for '\(identifier)'")
      }
      found.append((range, run))
    }
    found.sort { $0.range.lowerBound < $1.range.lowerBound }
    var parts: [PromptSegment] = []
    var start = text.startIndex
    for (range, run) in found {
      var before = text[start..<range.lowerBound]
      if before.hasSuffix(" ") { before = before.dropLast() }
      parts.append(.tokens(model.tokenizer.encode(String(before), parseSpecial: true, addSpecial: parts.isEmpty)))
      switch run {
      case .page(let page): parts.append(.page(page))
      case .tokens(let tokens): parts.append(.tokens(tokens))
      }
      start = range.upperBound
    }
    parts.append(.tokens(model.tokenizer.encode(String(text[start...]), parseSpecial: true, addSpecial: parts.isEmpty)))
    return parts
  }
}
