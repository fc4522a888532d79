import Foundation
public import TomeCore

/// Re-ranks retrieved passages by how well each one predicts the question: the mean
/// log-probability of the question's tokens as the model's reply to the passage followed by an
/// instruction to write a question it answers (query likelihood; UPR, Sachan et al. 2022,
/// arXiv 2204.07496, where a language model re-ranks zero-shot this way).
///
/// Why this and not "does this passage answer the question? yes/no": SmolLM2-135M gives "yes"
/// about the same probability for relevant and irrelevant passages (see
/// `StrategyPrompts.yes`), while the likelihood of a whole question is a graded signal over
/// many tokens that even a small model computes well.
///
/// Cost: each passage is read after the chat template's user-message head, then the
/// instruction, the assistant header and the question are run with logits at the question's
/// positions. A passage with a stored KV page (`KVPageSource`) is not read at all: its page was
/// computed exactly there, after the same head, so importing it is exact and the passage costs
/// only the instruction and question tokens.
public struct PassageReranker: Sendable {
  /// The instruction after each passage (the `rerank-question.txt` template).
  public var instruction: String

  public init(instruction: String) {
    self.instruction = instruction
  }

  /// The reranker with `library`'s instruction.
  public init(library: PromptLibrary) throws {
    instruction = try library.template("rerank-question.txt").text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// What scoring took.
  public struct Cost: Sendable, Hashable {
    /// Passages imported from stored pages.
    public var paged = 0
    /// Model tokens run (passages read as text, instructions, questions).
    public var tokens = 0
  }

  /// The score of each passage (higher: predicts the question better), or nil when `model`
  /// does not expose its cache (an HTTP endpoint).
  public func scores(
    question: String, passages: [Passage], model: any LanguageModel, pages: (any KVPageSource)?
  ) throws -> (scores: [Double], cost: Cost)? {
    guard let paging = model as? any KVPaging else { return nil }
    return try scoresOpened(question: question, passages: passages, model: paging, pages: pages)
  }

  private func scoresOpened<M: KVPaging>(
    question: String, passages: [Passage], model: M, pages: (any KVPageSource)?
  ) throws -> (scores: [Double], cost: Cost) {
    let frame = try model.userMessageFrame()
    let bridge = model.tokenize("\n\n" + instruction) + frame.suffix
    let asked = model.tokenize(question.trimmingCharacters(in: .whitespacesAndNewlines))
    guard !asked.isEmpty else { return (passages.map { _ in 0 }, Cost()) }
    let stored = try pages?.pages(for: passages.map(\.id), model: model.identifier) ?? [:]
    let sequence = model.makeSequence()
    try sequence.append(tokens: frame.prefix)
    var cost = Cost(paged: 0, tokens: frame.prefix.count)
    var scores: [Double] = []
    for passage in passages {
      try Task.checkCancellation()
      sequence.truncate(to: frame.prefix.count)
      let text = model.tokenize(KVPage.text(ofChunk: passage.text))
      if let page = stored[passage.id], page.tokens == text {
        try sequence.importPage(page)
        cost.paged += 1
      } else {
        try sequence.append(tokens: text)
        cost.tokens += text.count
      }
      let room = model.contextLength - sequence.positionCount
      guard bridge.count + asked.count <= room else {
        scores.append(-.infinity)
        continue
      }
      let logProbabilities = try sequence.appendScoring(tokens: bridge + asked, scoredFrom: bridge.count)
      cost.tokens += bridge.count + asked.count
      scores.append(logProbabilities.reduce(0, +) / Double(logProbabilities.count))
    }
    return (scores, cost)
  }

  /// Indices of the passages best first by `scores` alone, or (`fused`) by the sum of each
  /// passage's rank under `scores` and its rank in the given (retrieval) order, which keeps a
  /// confident retriever's first hit from being overruled by the likelihood alone.
  public static func order(_ scores: [Double], fused: Bool) -> [Int] {
    let retrieval = scores.indices.map { -Double($0) }
    let final = fused ? AttendStrategy.rankSum(scores, retrieval) : scores
    return final.indices.sorted { final[$0] != final[$1] ? final[$0] > final[$1] : $0 < $1 }
  }
}
