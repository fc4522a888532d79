import Foundation
public import TomeCore

/// InftyThink over a text (Yan et al. 2025; METHODS-ORCHESTRATION.md §4 (f)): read the text in
/// order in segments of η tokens, and after each one rewrite a cumulative bullet summary, so the
/// prompt never grows past question + summary + pinned evidence + one segment, however long the
/// text is (the "sawtooth": each round's prompt drops back to that size).
///
/// The text is the reader's one document (`--document`) or what a broad search finds across
/// the collection (`ReadingPlan`). Each round's prompt (`infty-read.txt`) holds the question,
/// the summary so far, the pinned evidence and the segment; the reply replaces the summary.
/// Evidence is pinned by the encoder, not the model: the segment's sentences closest to the
/// question together with the points the round added (`EvidenceSelector`; the sentences the
/// summary relied on, which for a global question the question alone cannot pick), kept
/// verbatim with their spans beside the summary, so what the answer cites survives
/// summarisation. Reading stops after the last segment, after `rounds`,
/// at the marker `FINAL ANSWER:`, or (lookups only) when the model scores the summary and
/// evidence answerable. The answer (`infty-answer.txt`) reads the summary and the evidence,
/// numbered `[n]` and checked like every other strategy's citations.
public struct InftyStrategy: AnsweringStrategy {
  public struct Configuration: Sendable, Hashable {
    /// Tokens per segment (η); nil fits what the window leaves after the question, summary
    /// and evidence (at most 1,536).
    public var segmentTokens: Int?
    /// Cap on the summary (the reply's length in each round).
    public var summaryTokens: Int
    /// Cap on the pinned evidence shown in every round.
    public var evidenceTokens: Int
    /// Sentences pinned per segment at most.
    public var evidencePerSegment: Int
    /// A sentence is pinned when its evidence score reaches this.
    public var minimumEvidenceScore: Double
    /// Rounds at most (nil: the whole text).
    public var rounds: Int?
    /// Hits of the broad search when the reader sees more than one document.
    public var searchDepth: Int
    /// For a lookup, reading stops early when P(answerable) (calibrated) reaches this.
    public var answerableThreshold: Double
    public var stopEarly: Bool

    public init(
      segmentTokens: Int? = nil, summaryTokens: Int = 400, evidenceTokens: Int = 300, evidencePerSegment: Int = 2,
      minimumEvidenceScore: Double = 0.3, rounds: Int? = nil, searchDepth: Int = 48, answerableThreshold: Double = 0.8,
      stopEarly: Bool = true
    ) {
      self.segmentTokens = segmentTokens
      self.summaryTokens = summaryTokens
      self.evidenceTokens = evidenceTokens
      self.evidencePerSegment = evidencePerSegment
      self.minimumEvidenceScore = minimumEvidenceScore
      self.rounds = rounds
      self.searchDepth = searchDepth
      self.answerableThreshold = answerableThreshold
      self.stopEarly = stopEarly
    }
  }

  /// The marker that ends reading when the model writes it.
  public static let finalAnswerMarker = "FINAL ANSWER:"

  public var configuration: Configuration
  public var rag: RAGStrategy.Configuration
  public var kind: StrategyKind { .infty }

  public init(configuration: Configuration = .init(), rag: RAGStrategy.Configuration = .init()) {
    self.configuration = configuration
    self.rag = rag
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    let prompts = try StrategyPrompts(context)
    let window = min(context.model.contextLength, rag.contextTokens ?? .max)
    let empty = ["question": question, "summary": "", "evidence": "", "text": ""]
    let room = try prompts.room("infty-read.txt", empty, answerTokens: configuration.summaryTokens, limit: window)
      - configuration.summaryTokens - configuration.evidenceTokens
    let segmentTokens = configuration.segmentTokens ?? min(1536, room)
    guard segmentTokens >= 64, segmentTokens <= room else {
      throw ReasoningError.windowTooSmall(strategy: name, needed: segmentTokens, available: room)
    }
    let plan = try ReadingPlan.make(
      question: question, context: context, segmentTokens: segmentTokens, searchDepth: configuration.searchDepth, log: log)
    let rounds = min(plan.segments.count, configuration.rounds ?? .max)
    log.record(TraceStep(
      kind: .note, label: "infty",
      detail: "\(plan.description): \(plan.tokens) tokens in \(plan.segments.count) segments of up to \(segmentTokens); reading \(rounds)"))

    let lookup = AutoStrategy.form(of: question).0 != .global
    let baseline =
      lookup && configuration.stopEarly
      ? try await prompts.baseline("answerable baseline", "choice-answerable.txt", ["notes": "N/A", "question": question], log: log) : nil
    let selector = EvidenceSelector(
      embedder: context.embedder, configuration: .init(count: configuration.evidencePerSegment))
    var summary = ""
    var pinned: [Evidence] = []
    var read = 0
    for (i, segment) in plan.segments.prefix(rounds).enumerated() {
      try Task.checkCancellation()
      log.emit(.progress("infty: segment \(i + 1)/\(rounds), \(read) of \(plan.tokens) tokens read"))
      let values = [
        "question": question, "summary": summary.isEmpty ? "(nothing yet)" : summary,
        "evidence": pinned.isEmpty ? "(none yet)" : Self.numbered(pinned), "text": ReadingPlan.text(of: segment),
      ]
      var parameters = context.parameters
      parameters.maxTokens = configuration.summaryTokens
      parameters.stop += ["<|im_end|>", "\nQuestion:"]
      let reply = try await ModelCall(model: context.model).run(
        "segment \(i + 1)", messages: prompts.messages("infty-read.txt", values), parameters: parameters, log: log,
        until: ModelCall.repeatsALine)
      read += try segment.reduce(0) { $0 + (try context.model.tokenCount($1.text)) + 2 }
      let (rewritten, final) = Self.summary(from: ModelCall.withoutRepeatedLines(reply.text))
      let previousSummary = summary
      // A reply with nothing in it (the model stopped at once) keeps the summary it had.
      if !rewritten.isEmpty { summary = rewritten }
      // The sentences the new points rely on: closest to the question with those points.
      let fresh = Self.newPoints(rewritten, previous: previousSummary)
      let found = try selector.select(question: fresh.isEmpty ? question : question + "\n" + fresh, passages: segment)
        .filter { $0.score >= configuration.minimumEvidenceScore }
      pinned = try Self.kept(pinned + found, tokens: configuration.evidenceTokens, model: context.model)
      log.record(TraceStep(
        kind: .note, label: "round \(i + 1)",
        detail: "summary \(try context.model.tokenCount(summary)) tokens, \(pinned.count) evidence sentences pinned"))
      if final {
        log.record(TraceStep(kind: .note, label: "stop", detail: "the model wrote \(Self.finalAnswerMarker)"))
        break
      }
      if let baseline, i + 1 < rounds {
        let p = try await prompts.yes(
          "answerable after segment \(i + 1)", "choice-answerable.txt",
          ["notes": Self.notes(summary: summary, evidence: pinned), "question": question], baseline: baseline, log: log)
        if p >= configuration.answerableThreshold {
          log.record(TraceStep(kind: .note, label: "stop", detail: String(format: "answerable (%.2f) after segment %d of %d", p, i + 1, rounds)))
          break
        }
      }
    }
    return try await answer(question: question, summary: summary, evidence: pinned, prompts: prompts, log: log)
  }

  /// The final call: the question from the summary and the pinned evidence, numbered `[n]`.
  func answer(question: String, summary: String, evidence: [Evidence], prompts: StrategyPrompts, log: TraceLog) async throws -> Answer {
    let passages = evidence.map(Self.passage)
    log.emit(.evidence(evidence))
    log.emit(.passages(used: passages, dropped: []))
    let draft = AnswerDraft(question: question, strategy: name, text: "", passages: passages, evidence: evidence)
    guard !summary.isEmpty || !passages.isEmpty else {
      return try prompts.notFound(draft, detail: "nothing was summarised or pinned; the model was not called", support: rag.support, log: log)
    }
    return try await prompts.finalAnswer(
      "infty-answer.txt",
      ["question": question, "summary": summary.isEmpty ? "(none)" : summary, "passages": try prompts.blocks(passages)],
      draft: draft, support: rag.support, log: log)
  }

  /// The summary a reply holds (text before the final-answer marker, else all of it) and
  /// whether the marker was written.
  static func summary(from reply: String) -> (String, Bool) {
    guard let marker = reply.range(of: finalAnswerMarker, options: .caseInsensitive) else {
      return (reply.trimmingCharacters(in: .whitespacesAndNewlines), false)
    }
    let before = reply[..<marker.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
    let after = reply[marker.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
    let kept = [before, after.isEmpty ? "" : "* " + after].filter { !$0.isEmpty }.joined(separator: "\n")
    return (kept, true)
  }

  /// Lines of `summary` that `previous` does not hold: what this round added.
  static func newPoints(_ summary: String, previous: String) -> String {
    let old = Set(previous.split(whereSeparator: \.isNewline).map { TextAnalysis.normalised($0) })
    return summary.split(whereSeparator: \.isNewline).filter { !old.contains(TextAnalysis.normalised($0)) }.joined(separator: "\n")
  }

  /// The best-scored sentences of `evidence` within `tokens`, in reading order.
  static func kept(_ evidence: [Evidence], tokens: Int, model: any LanguageModel) throws -> [Evidence] {
    var seen = Set<String>()
    let unique = evidence.enumerated().filter { seen.insert("\($1.path)\u{0}\($1.firstLine)\u{0}\($1.text)").inserted }
    var used = 0
    var keep = Set<Int>()
    for (offset, e) in unique.sorted(by: { $0.element.score > $1.element.score }) {
      let cost = try model.tokenCount(e.text) + 4
      if used + cost > tokens { continue }
      used += cost
      keep.insert(offset)
    }
    return unique.filter { keep.contains($0.offset) }.map(\.element)
  }

  /// Evidence as numbered lines (`[1] …`), the numbering the answer cites.
  static func numbered(_ evidence: [Evidence]) -> String {
    evidence.enumerated().map { "[\($0 + 1)] \($1.text.replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n")
  }

  static func notes(summary: String, evidence: [Evidence]) -> String {
    [summary, numbered(evidence)].filter { !$0.isEmpty }.joined(separator: "\n")
  }

  /// An evidence sentence as a passage of its own, so `[n]` resolves to its lines.
  static func passage(_ evidence: Evidence) -> Passage {
    Passage(
      id: evidence.chunkID, text: evidence.text,
      span: SourceSpan(path: evidence.path, firstLine: evidence.firstLine, lastLine: evidence.lastLine, page: evidence.page, byteRange: 0..<0),
      score: evidence.score)
  }
}
