/// Fits numbered passages into a model's context without silent truncation.
///
/// The room for passages is the context length (or a smaller `limit`) minus the prompt without
/// passages (template, question, chat markup, measured with `LanguageModel.promptTokenCount`)
/// minus the tokens reserved for the answer. Passages are taken whole in rank order; the first
/// that does not fit and everything ranked below it are returned as dropped, so the output can
/// say what the model did not see.
public struct ContextBudget: Sendable, Hashable {
  /// Tokens for the whole prompt plus answer (`contextLength`, or a caller's smaller limit).
  public var contextTokens: Int
  /// Tokens the prompt takes with no passage in it.
  public var overheadTokens: Int
  /// Tokens reserved for the answer (`GenerationParameters.maxTokens`).
  public var answerTokens: Int

  public init(contextTokens: Int, overheadTokens: Int, answerTokens: Int) {
    self.contextTokens = contextTokens
    self.overheadTokens = overheadTokens
    self.answerTokens = answerTokens
  }

  /// Tokens left for passages (may be negative when the question alone is too long).
  public var available: Int { contextTokens - overheadTokens - answerTokens }

  /// The outcome of fitting.
  public struct Fit<Item: Sendable>: Sendable {
    /// Items that fit, in rank order.
    public var kept: [Item]
    /// Items left out, in rank order (the lowest-ranked were dropped first).
    public var dropped: [Item]
    /// Tokens the kept items take.
    public var usedTokens: Int
  }

  /// Keeps the longest rank-order prefix of `items` whose costs fit in `available`.
  ///
  /// - Parameter cost: tokens an item adds to the prompt (its numbered block and separator).
  /// - Throws: `ReasoningError.questionTooLong` when nothing fits because the prompt without
  ///   passages is already too long; `ReasoningError.contextTooSmall` when the best item alone
  ///   does not fit.
  public func fit<Item: Sendable>(_ items: [Item], cost: (Item) throws -> Int) throws -> Fit<Item> {
    guard available > 0 else { throw ReasoningError.questionTooLong(tokens: overheadTokens, limit: contextTokens - answerTokens) }
    var used = 0
    var kept: [Item] = []
    for (index, item) in items.enumerated() {
      let c = try cost(item)
      if used + c > available {
        if kept.isEmpty { throw ReasoningError.contextTooSmall(needed: c, available: available) }
        return Fit(kept: kept, dropped: Array(items[index...]), usedTokens: used)
      }
      used += c
      kept.append(item)
    }
    return Fit(kept: kept, dropped: [], usedTokens: used)
  }
}
