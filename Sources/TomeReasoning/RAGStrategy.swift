import Foundation
import TomeCore

/// Single-pass retrieval-augmented answering with edge reordering (Jin et al. 2024), evidence
/// sentences and checked citations.
///
/// Steps: fit the passages into the context (`ContextBudget`, best first, dropping the
/// lowest-ranked), pick evidence sentences (`EvidenceSelector`); when the best sentence is not
/// even loosely related to the question (`minimumEvidenceScore`), answer "not found in the
/// collection" without calling the model; otherwise place the passages by `EdgeOrdering`,
/// number them `[1]…[k]` in prompt order, ask once (templates `rag-system.txt`,
/// `rag-answer.txt`, `rag-passage.txt`), then check markers, quotations and support.
public struct RAGStrategy: AnsweringStrategy {
  /// The phrase the prompt asks for when the passages lack the answer.
  public static let notFoundPhrase = "not found in the collection"

  public struct Configuration: Sendable, Hashable {
    public var ordering: EdgeOrdering
    public var evidence: EvidenceSelector.Configuration
    /// Below this best-evidence score the model is not called. all-MiniLM-L6-v2 gives
    /// unrelated question/sentence pairs cosines around 0–0.15 and a sentence that answers
    /// the question usually 0.4 or more; 0.2 only rejects retrieval that found nothing related.
    public var minimumEvidenceScore: Double
    /// Use at most this many tokens of the model's context (nil = all of `contextLength`):
    /// a small model reads a long prompt slowly and answers worse.
    public var contextTokens: Int?
    /// Re-rank this many first hits with the model (`PassageReranker`, fused with the search's
    /// order) before keeping the usual number (nil: the search's order). In-process model only.
    public var rerankDepth: Int?
    public var support: SupportCheck
    /// GemFilter on the answering prompt (nil: none): `rag`'s passages and `attend`'s carried
    /// sentences are cut to `keptTokens` by a middle layer before the model answers.
    public var filter: GemFilter.Configuration?

    public init(
      ordering: EdgeOrdering = .edge, evidence: EvidenceSelector.Configuration = .init(),
      minimumEvidenceScore: Double = 0.2, contextTokens: Int? = nil, rerankDepth: Int? = nil, support: SupportCheck = .init(),
      filter: GemFilter.Configuration? = nil
    ) {
      self.ordering = ordering
      self.evidence = evidence
      self.minimumEvidenceScore = minimumEvidenceScore
      self.contextTokens = contextTokens
      self.rerankDepth = rerankDepth
      self.support = support
      self.filter = filter
    }
  }

  public var configuration: Configuration
  public var kind: StrategyKind { .rag }

  public init(configuration: Configuration = .init()) {
    self.configuration = configuration
  }

  struct Templates {
    var system: PromptTemplate
    var answer: PromptTemplate
    var passage: PromptTemplate
    init(_ library: PromptLibrary) throws {
      system = try library.template("rag-system.txt")
      answer = try library.template("rag-answer.txt")
      passage = try library.template("rag-passage.txt")
    }
  }

  /// The label shown for a passage: file name and lines.
  static func sourceLabel(_ span: SourceSpan) -> String {
    let name = span.path.split(separator: "/").last.map(String.init) ?? span.path
    let lines = span.firstLine == span.lastLine ? "line \(span.firstLine)" : "lines \(span.firstLine)-\(span.lastLine)"
    return span.page.map { "\(name), p. \($0), \(lines)" } ?? "\(name), \(lines)"
  }

  func block(_ passage: Passage, number: Int, templates: Templates) throws -> String {
    try templates.passage.render([
      "n": "\(number)", "source": Self.sourceLabel(passage.span),
      "text": passage.text.trimmingCharacters(in: .whitespacesAndNewlines),
    ]).trimmingCharacters(in: .newlines)
  }

  /// The chat messages for `question` and numbered `blocks`.
  func messages(question: String, blocks: [String], templates: Templates) throws -> [ChatMessage] {
    let user = try templates.answer.render(["question": question, "passages": blocks.joined(separator: "\n\n")])
    return [.system(templates.system.text.trimmingCharacters(in: .whitespacesAndNewlines)), .user(user)]
  }

  func budget(question: String, templates: Templates, context: AnsweringContext) throws -> ContextBudget {
    // Checked here, where it is subtracted: an extreme value would overflow the budget.
    guard context.parameters.maxTokens > 0 else { throw ReasoningError.invalidMaxTokens(context.parameters.maxTokens) }
    let overhead = try context.model.promptTokenCount(messages(question: question, blocks: [], templates: templates))
    let limit = min(context.model.contextLength, configuration.contextTokens ?? .max)
    return ContextBudget(contextTokens: limit, overheadTokens: overhead, answerTokens: context.parameters.maxTokens)
  }

  /// Passage tokens available for `question`.
  public func passageBudget(question: String, context: AnsweringContext) throws -> Int {
    let budget = try budget(question: question, templates: Templates(context.prompts), context: context)
    guard budget.available > 0 else {
      throw ReasoningError.questionTooLong(tokens: budget.overheadTokens, limit: budget.contextTokens - budget.answerTokens)
    }
    return budget.available
  }

  /// Tokens a passage costs in this strategy's prompt at prompt number `number`.
  public func passageCost(_ passage: Passage, number: Int, context: AnsweringContext) throws -> Int {
    // Two newlines separate blocks; the number's width varies by a token at most.
    try context.model.tokenCount(block(passage, number: number, templates: Templates(context.prompts)) + "\n\n")
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    let budget = try passageBudget(question: question, context: context)
    let passages = try log.timed(.search, "passages", detail: question, count: \.count) {
      try context.reader.passages(for: question, budget: budget, rerank: try reranking(question, context: context, log: log)) {
        try passageCost($0, number: $1, context: context)
      }
    }
    return try await answer(question: question, passages: passages, context: context, log: log)
  }

  /// The re-ranking `rerankDepth` asks for (nil when off); each use is a trace step.
  func reranking(_ question: String, context: AnsweringContext, log: TraceLog) throws -> HitReranking? {
    guard let depth = configuration.rerankDepth else { return nil }
    let reranker = try PassageReranker(library: context.prompts)
    return HitReranking(depth: depth) { hits in
      let start = ContinuousClock.now
      guard let (scores, cost) = try reranker.scores(question: question, passages: hits, model: context.model, pages: context.kvPages) else {
        throw ReasoningError.rerankUnavailable(model: context.model.identifier)
      }
      log.record(TraceStep(
        kind: .note, label: "rerank",
        detail: "\(hits.count) hits by the likelihood of the question (\(cost.paged) from KV pages, \(cost.tokens) tokens run)",
        seconds: (ContinuousClock.now - start).seconds))
      return PassageReranker.order(scores, fused: true)
    }
  }

  /// Answers `question` from `passages` (best first): fits them, picks evidence, asks once and
  /// finishes. `strategy` is the name recorded (other strategies answer through this too).
  public func answer(
    question: String, passages: [Passage], context: AnsweringContext, log: TraceLog, strategy: String = "rag",
    label: String = "answer"
  ) async throws -> Answer {
    let templates = try Templates(context.prompts)
    let budget = try budget(question: question, templates: templates, context: context)
    // Numbers are not known before ordering; cost with a two-digit number (an upper bound).
    let fit = try budget.fit(passages) { try context.model.tokenCount(block($0, number: 10, templates: templates) + "\n\n") }

    let evidenceStart = ContinuousClock.now
    let evidence = try EvidenceSelector(embedder: context.embedder, configuration: configuration.evidence, model: context.model)
      .select(question: question, passages: fit.kept)
    let evidenceSeconds = (ContinuousClock.now - evidenceStart).seconds
    log.emit(.evidence(evidence))
    try Task.checkCancellation()

    let ordered = configuration.ordering.apply(fit.kept)
    log.emit(.passages(used: ordered, dropped: fit.dropped))
    let finisher = AnswerFinisher(support: configuration.support)
    var draft = AnswerDraft(
      question: question, strategy: strategy, text: "", passages: ordered, dropped: fit.dropped, evidence: evidence,
      evidenceSeconds: evidenceSeconds)

    guard let best = evidence.first, best.score >= configuration.minimumEvidenceScore else {
      draft.text = "Not found in the collection."
      log.record(TraceStep(kind: .note, label: "not found", detail: "best evidence score \(evidence.first.map { String(format: "%.2f", $0.score) } ?? "none") is below \(configuration.minimumEvidenceScore); the model was not called"))
      log.emit(.text(draft.text))
      return try finisher.finish(draft, context: context, log: log)
    }

    let blocks = try ordered.enumerated().map { try block($1, number: $0 + 1, templates: templates) }
    let messages = try messages(question: question, blocks: blocks, templates: templates)
    let paged = try pagedPrompt(question: question, passages: ordered, templates: templates, context: context, log: log)
    var parameters = context.parameters
    parameters.stop += ["\nQuestion:", "<|im_end|>"]
    let reply = try await ModelCall(model: context.model).run(
      label, messages: messages, bare: try self.messages(question: question, blocks: [], templates: templates),
      filter: configuration.filter, paged: paged, parameters: parameters, log: log, streaming: true)
    draft.text = reply.text
    draft.timeToFirstToken = reply.timeToFirstToken
    return try finisher.finish(draft, context: context, log: log)
  }

  /// The prompt with stored KV pages in the places of the passages that have one (nil when
  /// the context has no pages, the model cannot import them, or no passage has a page).
  ///
  /// A passage is spliced only when its pages cover its tokens (`pageCover`), so the model sees
  /// the same tokens as without pages; what changes is that a page's keys and values were
  /// computed without the question and the other passages before it.
  func pagedPrompt(
    question: String, passages: [Passage], templates: Templates, context: AnsweringContext, log: TraceLog
  ) throws -> PagedPrompt? {
    guard let source = context.kvPages, let model = context.model as? any PagedPrompting, !passages.isEmpty else { return nil }
    let stored = try source.pages(for: passages.flatMap(\.chunkIDs), model: model.identifier)
    var runs: [String: PagedPrompt.Run] = [:]
    var blocks: [String] = []
    var covered = 0, fromPages = 0
    for (i, passage) in passages.enumerated() {
      var shown = passage
      let candidates = passage.chunkIDs.compactMap { stored[$0] }
      if let cover = Self.pageCover(model.tokenize(KVPage.text(ofChunk: passage.text)), from: candidates) {
        let placeholders = cover.indices.map { PagedPrompt.placeholder(runs.count + $0 + 1) }
        for (placeholder, run) in zip(placeholders, cover) {
          runs[placeholder] = run
          if case .page(let page) = run { fromPages += page.tokens.count }
        }
        shown.text = placeholders.joined()
        covered += 1
      }
      blocks.append(try block(shown, number: i + 1, templates: templates))
    }
    log.record(TraceStep(
      kind: .note, label: "kv pages",
      detail: "\(covered) of \(passages.count) passages from stored KV pages (\(fromPages) tokens not read)"))
    guard covered > 0 else { return nil }
    return PagedPrompt(messages: try messages(question: question, blocks: blocks, templates: templates), runs: runs)
  }

  /// Pages, and the few tokens between them, that make up exactly `tokens`: a passage is one
  /// chunk or neighbouring chunks joined (overlapping lines once, blank lines between). A page
  /// continues the passage from where its tokens match it, after dropping the positions it
  /// shares with what came before (its kept positions were computed after those, as in the
  /// document). Tokens no page supplies (the blank lines between chunks; a chunk's first word,
  /// which its page holds with a leading space) are read, at most `maximumGap` in a row. A
  /// passage that ends inside a page (cut to fit the budget) takes that page's first positions.
  /// Nil when no cover exists (a chunk without a page, a page from another tokenizer).
  static func pageCover(_ tokens: [Int], from pages: [KVPage], maximumGap: Int = 8) -> [PagedPrompt.Run]? {
    var remaining = pages
    var cover: [PagedPrompt.Run] = []
    var gap: [Int] = []
    var gaps = 0
    var at = 0
    while at < tokens.count {
      var next: (index: Int, drop: Int, keep: Int?)?
      let left = tokens.count - at
      search: for (index, page) in remaining.enumerated() {
        for drop in 0..<page.tokens.count {
          let tail = page.tokens[drop...]
          // A short tail matches by chance (a newline, a full stop): ask for a real stretch.
          guard tail.count >= min(4, page.tokens.count) else { break }
          if tail.count <= left, tokens[at..<(at + tail.count)].elementsEqual(tail) {
            next = (index, drop, nil)
            break search
          }
          // The passage ends inside the page (cut by the prompt's budget): its first positions.
          if left >= 4, tail.count > left, tail.prefix(left).elementsEqual(tokens[at...]) {
            next = (index, drop, left)
            break search
          }
        }
      }
      guard let next else {
        gap.append(tokens[at])
        gaps += 1
        guard gaps <= maximumGap else { return nil }
        at += 1
        continue
      }
      if !gap.isEmpty {
        cover.append(.tokens(gap))
        gap = []
        gaps = 0
      }
      var page = remaining.remove(at: next.index).droppingFirst(next.drop)
      if let keep = next.keep { page = page.prefix(keep) }
      at += page.tokens.count
      cover.append(.page(page))
    }
    if !gap.isEmpty { cover.append(.tokens(gap)) }
    return cover.contains { if case .page = $0 { true } else { false } } ? cover : nil
  }
}
