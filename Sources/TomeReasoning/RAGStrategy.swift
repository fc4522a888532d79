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
    public var support: SupportCheck

    public init(
      ordering: EdgeOrdering = .edge, evidence: EvidenceSelector.Configuration = .init(),
      minimumEvidenceScore: Double = 0.2, contextTokens: Int? = nil, support: SupportCheck = .init()
    ) {
      self.ordering = ordering
      self.evidence = evidence
      self.minimumEvidenceScore = minimumEvidenceScore
      self.contextTokens = contextTokens
      self.support = support
    }
  }

  public var configuration: Configuration
  public var name: String { "rag" }

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

  public func passageBudget(question: String, context: AnsweringContext) throws -> Int {
    let budget = try budget(question: question, templates: Templates(context.prompts), context: context)
    guard budget.available > 0 else {
      throw ReasoningError.questionTooLong(tokens: budget.overheadTokens, limit: budget.contextTokens - budget.answerTokens)
    }
    return budget.available
  }

  public func passageCost(_ passage: Passage, number: Int, context: AnsweringContext) throws -> Int {
    // Two newlines separate blocks; the number's width varies by a token at most.
    try context.model.tokenCount(block(passage, number: number, templates: Templates(context.prompts)) + "\n\n")
  }

  public func answer(question: String, passages: [Passage], context: AnsweringContext) -> AsyncThrowingStream<AnswerEvent, any Error> {
    AsyncThrowingStream { continuation in
      let task = Task {
        do {
          try await run(question: question, passages: passages, context: context) { continuation.yield($0) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// Answers without streaming: the finished `Answer`.
  public func answer(question: String, passages: [Passage], context: AnsweringContext) async throws -> Answer {
    var result: Answer?
    for try await event in answer(question: question, passages: passages, context: context) as AsyncThrowingStream {
      if case .finished(let a) = event { result = a }
    }
    guard let result else { throw CancellationError() }
    return result
  }

  func run(question: String, passages: [Passage], context: AnsweringContext, emit: (AnswerEvent) -> Void) async throws {
    let question = question.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !question.isEmpty else { throw ReasoningError.emptyQuestion }
    let templates = try Templates(context.prompts)
    let budget = try budget(question: question, templates: templates, context: context)
    // Numbers are not known before ordering; cost with a two-digit number (an upper bound).
    let fit = try budget.fit(passages) { try context.model.tokenCount(block($0, number: 10, templates: templates) + "\n\n") }

    let evidenceStart = ContinuousClock.now
    let evidence = try EvidenceSelector(embedder: context.embedder, configuration: configuration.evidence)
      .select(question: question, passages: fit.kept)
    let evidenceSeconds = (ContinuousClock.now - evidenceStart).seconds
    emit(.evidence(evidence))
    try Task.checkCancellation()

    let ordered = configuration.ordering.apply(fit.kept)
    emit(.passages(used: ordered, dropped: fit.dropped))
    func finish(text: String, model: String?, ttft: Double?, promptTokens: Int, answerTokens: Int) {
      var numbered: [Int: Passage] = [:]
      for (i, p) in ordered.enumerated() { numbered[i + 1] = p }
      let report = CitationChecker(numbered: numbered).check(text)
      let support = configuration.support.check(answer: text, sources: evidence.map(\.text) + ordered.map(\.text))
      let notFound = TextAnalysis.normalised(text).contains(Self.notFoundPhrase)
      emit(
        .finished(
          Answer(
            question: question, strategy: name, model: model, evidence: evidence, text: text,
            citations: report.citations, quotes: report.quotes, unsupported: support.unsupported,
            unsupportedWords: support.missingWords, notFound: notFound, passages: ordered, dropped: fit.dropped,
            tokens: TokenCounts(prompt: promptTokens, answer: answerTokens),
            timings: AnswerTimings(
              retrieval: context.retrievalSeconds, evidence: evidenceSeconds, timeToFirstToken: ttft,
              total: (ContinuousClock.now - context.started).seconds))))
    }

    guard let best = evidence.first, best.score >= configuration.minimumEvidenceScore else {
      let text = "Not found in the collection."
      emit(.text(text))
      finish(text: text, model: nil, ttft: nil, promptTokens: 0, answerTokens: 0)
      return
    }

    let blocks = try ordered.enumerated().map { try block($1, number: $0 + 1, templates: templates) }
    let messages = try messages(question: question, blocks: blocks, templates: templates)
    let promptTokens = try context.model.promptTokenCount(messages)
    var parameters = context.parameters
    parameters.stop += ["\nQuestion:", "<|im_end|>"]
    let modelStart = ContinuousClock.now
    var ttft: Double?
    var text = ""
    for try await piece in context.model.stream(messages, parameters: parameters) {
      if ttft == nil { ttft = (ContinuousClock.now - modelStart).seconds }
      text += piece
      emit(.text(piece))
    }
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    finish(
      text: trimmed, model: context.model.identifier, ttft: ttft, promptTokens: promptTokens,
      answerTokens: try context.model.tokenCount(text))
  }
}
