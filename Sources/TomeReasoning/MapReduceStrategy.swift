import Foundation
public import TomeCore

/// Plain map-reduce: summarise each window of the text with the question in mind, then answer
/// from the summaries, merging them level by level while they do not fit in one window.
///
/// The baseline the global strategies (`gor`, `infty`) are measured against, and a strategy in
/// its own right when every part of a text matters and the summaries fit. The text is what
/// `infty` reads (`ReadingPlan`). Each summary (`mapreduce-map.txt`) is cited by the chunk of
/// its window closest to it in meaning; a merged summary (`mapreduce-reduce.txt`) by the
/// closest of its parts' chunks; the answer (`agents-answer.txt`) reads them numbered `[n]`.
public struct MapReduceStrategy: AnsweringStrategy {
  public struct Configuration: Sendable, Hashable {
    /// Tokens per window (nil: what the window leaves beside the prompt and summary, at most 1,536).
    public var windowTokens: Int?
    /// Tokens of one summary at most.
    public var summaryTokens: Int
    /// Hits of the broad search when the reader sees more than one document.
    public var searchDepth: Int

    public init(windowTokens: Int? = nil, summaryTokens: Int = 96, searchDepth: Int = 48) {
      self.windowTokens = windowTokens
      self.summaryTokens = summaryTokens
      self.searchDepth = searchDepth
    }
  }

  /// A summary and the chunk it is cited by.
  struct Summary: Sendable {
    var text: String
    var source: Passage
  }

  public var configuration: Configuration
  public var rag: RAGStrategy.Configuration
  public var kind: StrategyKind { .mapreduce }

  public init(configuration: Configuration = .init(), rag: RAGStrategy.Configuration = .init()) {
    self.configuration = configuration
    self.rag = rag
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    let prompts = try StrategyPrompts(context)
    let window = min(context.model.contextLength, rag.contextTokens ?? .max)
    let room = try prompts.room("mapreduce-map.txt", ["question": question, "text": ""], answerTokens: configuration.summaryTokens, limit: window)
    let tokens = configuration.windowTokens ?? min(1536, room)
    guard tokens >= 64, tokens <= room else { throw ReasoningError.windowTooSmall(strategy: name, needed: tokens, available: room) }
    let plan = try ReadingPlan.make(question: question, context: context, segmentTokens: tokens, searchDepth: configuration.searchDepth, log: log)
    log.record(TraceStep(kind: .note, label: "map", detail: "\(plan.description): \(plan.tokens) tokens in \(plan.segments.count) windows of up to \(tokens)"))

    var summaries: [Summary] = []
    for (i, segment) in plan.segments.enumerated() {
      try Task.checkCancellation()
      log.emit(.progress("mapreduce: window \(i + 1)/\(plan.segments.count)"))
      let reply = try await prompts.generate(
        "map \(i + 1)", "mapreduce-map.txt", ["text": ReadingPlan.text(of: segment), "question": question],
        maxTokens: configuration.summaryTokens, log: log)
      guard TextAnalysis.contentWords(reply.text).count >= 2 else { continue }
      summaries.append(Summary(text: reply.text, source: try AgentsStrategy.source(of: reply.text, in: segment, embedder: context.embedder)))
    }
    // Reduce level by level until the numbered summaries fit beside the answer prompt.
    let answerRoom = try prompts.room("agents-answer.txt", ["notes": "", "question": question], answerTokens: context.parameters.maxTokens, limit: window)
    var level = 1
    while try Self.cost(summaries, model: context.model) > answerRoom, summaries.count > 1 {
      summaries = try await reduce(summaries, tokens: room, level: level, question: question, prompts: prompts, log: log)
      level += 1
    }
    let notes = summaries.enumerated().map { "[\($0 + 1)] \($1.text.replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n")
    let sources = summaries.map(\.source)
    log.emit(.passages(used: sources, dropped: []))
    var draft = AnswerDraft(question: question, strategy: name, text: "", passages: sources)
    guard !summaries.isEmpty else { return try prompts.notFound(draft, support: rag.support, log: log) }
    let evidence = try EvidenceSelector(embedder: context.embedder, configuration: rag.evidence, model: context.model).select(question: question, passages: CoCStrategy.unique(sources))
    log.emit(.evidence(evidence))
    draft.evidence = evidence
    return try await prompts.finalAnswer(
      "agents-answer.txt", ["notes": notes, "question": question], draft: draft, support: rag.support, log: log)
  }

  /// Tokens of `summaries` as numbered note lines.
  static func cost(_ summaries: [Summary], model: any LanguageModel) throws -> Int {
    try summaries.reduce(0) { $0 + (try model.tokenCount($1.text)) + 5 }
  }

  /// One level of reduction: consecutive summaries grouped within `tokens`, each group merged
  /// into one summary (a group of one is kept as it is).
  func reduce(
    _ summaries: [Summary], tokens: Int, level: Int, question: String, prompts: StrategyPrompts, log: TraceLog
  ) async throws -> [Summary] {
    let model = prompts.context.model
    var groups: [[Summary]] = [[]]
    var used = 0
    for summary in summaries {
      let cost = try model.tokenCount(summary.text) + 5
      if used + cost > tokens, !groups[groups.count - 1].isEmpty {
        groups.append([])
        used = 0
      }
      groups[groups.count - 1].append(summary)
      used += cost
    }
    // Two summaries always fit one window; guard against a level that merges nothing.
    if groups.count == summaries.count {
      groups = stride(from: 0, to: summaries.count, by: 2).map { Array(summaries[$0..<min($0 + 2, summaries.count)]) }
    }
    var out: [Summary] = []
    for (g, group) in groups.enumerated() {
      guard group.count > 1 else {
        out += group
        continue
      }
      let text = group.map { "- " + $0.text.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
      let reply = try await prompts.generate(
        "reduce \(level).\(g + 1)", "mapreduce-reduce.txt", ["summaries": text, "question": question],
        maxTokens: configuration.summaryTokens, log: log)
      let merged = TextAnalysis.contentWords(reply.text).count >= 2 ? reply.text : group[0].text
      out.append(Summary(text: merged, source: try AgentsStrategy.source(of: merged, in: group.map(\.source), embedder: prompts.context.embedder)))
    }
    return out
  }
}
