import Foundation
public import TomeCore

extension ModelCall {
  /// Calls the model on `messages`, through GemFilter when `filter` is set (and, when the
  /// filter does not apply, from `paged` where the model imports pages).
  ///
  /// `bare` is the same prompt without its passages: what the two share at the start and the
  /// end is never dropped (`GemFilter.protected`). When the passages hold no more than
  /// `filter.keptTokens` tokens the call is an ordinary one, with a trace note saying so.
  /// Otherwise the whole prompt is read through layers 0…`filter.layer`, the selection is
  /// recorded as a step of its own (tokens read, tokens kept, layer, seconds), and the model
  /// answers the kept tokens.
  /// - Throws: `ReasoningError.filterUnavailable` when the model cannot read early (an HTTP
  ///   endpoint): falling back quietly would send the server a prompt the filter was asked to
  ///   shorten. `ReasoningError.filterLayerOutOfRange` for a layer the model lacks.
  public func run(
    _ label: String, messages: [ChatMessage], bare: [ChatMessage], filter: GemFilter.Configuration?, paged: PagedPrompt? = nil,
    parameters: GenerationParameters, log: TraceLog, streaming: Bool = false, until: (@Sendable (String) -> Bool)? = nil
  ) async throws -> Reply {
    guard let filter else {
      return try await run(label, messages: messages, paged: paged, parameters: parameters, log: log, streaming: streaming, until: until)
    }
    guard let early = model as? any EarlyExitProbing, let paging = model as? any KVPaging else {
      throw ReasoningError.filterUnavailable(model: model.identifier)
    }
    guard (0..<early.layerCount).contains(filter.layer) else {
      throw ReasoningError.filterLayerOutOfRange(layer: filter.layer, layers: early.layerCount)
    }
    let prompt = try paging.promptTokens(messages)
    let protected = GemFilter.protected(prompt, bare: try paging.promptTokens(bare))
    let passages = prompt.count - protected.head - protected.tail
    guard passages > filter.keptTokens else {
      log.record(TraceStep(
        kind: .note, label: "gem filter",
        detail: "not applied: the passages hold \(passages) tokens, no more than the \(filter.keptTokens) it keeps"))
      return try await run(label, messages: messages, paged: paged, parameters: parameters, log: log, streaming: streaming, until: until)
    }
    let start = ContinuousClock.now
    let readings = try await early.readEarly(tokens: prompt, layers: [filter.layer], queryCount: 1)
    precondition(readings.count == 1 && readings[0].tokenCount == prompt.count, "readEarly reads every token, once per layer asked for")
    let reading = readings[0]
    let kept = GemFilter.select(
      scores: GemFilter.pooled(GemFilter.scores(reading).last ?? []), count: filter.keptTokens, protected: protected)
    let selected = kept.map { prompt[$0] }
    try Task.checkCancellation()
    log.record(TraceStep(
      kind: .modelCall, label: "gem filter",
      detail: "read \(prompt.count) tokens through layer \(filter.layer) of 0…\(early.layerCount - 1); kept \(selected.count): \(selected.count - protected.head - protected.tail) of \(passages) passage tokens, \(protected.head) template head, \(protected.tail) question tail",
      promptTokens: prompt.count, answerTokens: 0, seconds: (ContinuousClock.now - start).seconds))
    return try await collect(
      label, promptTokens: selected.count, log: log, streaming: streaming, until: until,
      stream: { paging.stream(prompt: selected, parameters: parameters) })
  }
}
