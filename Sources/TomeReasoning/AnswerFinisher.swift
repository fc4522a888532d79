import Foundation
public import TomeCore

/// What a strategy hands to the finishing step.
public struct AnswerDraft: Sendable {
  public var question: String
  /// The strategy name recorded (`auto` records `auto→coc`).
  public var strategy: String
  public var text: String
  /// Passages by prompt number: `passages[i]` is `[i + 1]` in the text.
  public var passages: [Passage]
  public var dropped: [Passage]
  public var evidence: [Evidence]
  public var evidenceSeconds: Double
  public var timeToFirstToken: Double?

  public init(
    question: String, strategy: String, text: String, passages: [Passage], dropped: [Passage] = [],
    evidence: [Evidence] = [], evidenceSeconds: Double = 0, timeToFirstToken: Double? = nil
  ) {
    self.question = question
    self.strategy = strategy
    self.text = text
    self.passages = passages
    self.dropped = dropped
    self.evidence = evidence
    self.evidenceSeconds = evidenceSeconds
    self.timeToFirstToken = timeToFirstToken
  }
}

/// The finishing step every strategy ends with: resolves and checks `[n]` markers and
/// quotations against the numbered passages, attributes unmarked sentences to the lines that
/// support them, checks that the answer's words are in the sources, detects "not found", and
/// totals the trace's model calls, tokens and retrieval time.
public struct AnswerFinisher: Sendable {
  public var support: SupportCheck
  public var attribution: Attributor.Configuration

  public init(support: SupportCheck = .init(), attribution: Attributor.Configuration = .init()) {
    self.support = support
    self.attribution = attribution
  }

  public func finish(_ draft: AnswerDraft, context: AnsweringContext, log: TraceLog) throws -> Answer {
    let text = draft.text.trimmingCharacters(in: .whitespacesAndNewlines)
    var numbered: [Int: Passage] = [:]
    for (i, p) in draft.passages.enumerated() { numbered[i + 1] = p }
    let report = CitationChecker(numbered: numbered).check(text)
    let notFound = TextAnalysis.normalised(text).contains(RAGStrategy.notFoundPhrase)
    let attributed =
      notFound
      ? Attributor.Result(attributions: [], unsupported: [])
      : try Attributor(embedder: context.embedder, configuration: attribution).attribute(answer: text, passages: draft.passages)
    let checked = support.check(answer: text, sources: draft.evidence.map(\.text) + draft.passages.map(\.text))
    let steps = log.recorded
    let calls = steps.filter { $0.kind == .modelCall || $0.kind == .decision }
    return Answer(
      question: draft.question, strategy: draft.strategy, model: calls.isEmpty ? nil : context.model.identifier,
      evidence: draft.evidence, text: text, citations: report.citations, attributions: attributed.attributions,
      unsupportedSentences: attributed.unsupported, quotes: report.quotes, unsupported: checked.unsupported,
      unsupportedWords: checked.missingWords, notFound: notFound, passages: draft.passages, dropped: draft.dropped,
      tokens: TokenCounts(
        prompt: calls.reduce(0) { $0 + ($1.promptTokens ?? 0) }, answer: calls.reduce(0) { $0 + ($1.answerTokens ?? 0) },
        calls: calls.count),
      timings: AnswerTimings(
        retrieval: log.retrievalSeconds, evidence: draft.evidenceSeconds, timeToFirstToken: draft.timeToFirstToken,
        total: (ContinuousClock.now - context.started).seconds),
      trace: steps)
  }
}
