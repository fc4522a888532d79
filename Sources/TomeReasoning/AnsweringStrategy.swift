import Foundation
public import TomeCore

/// The answering strategies, by the name `--strategy`, chat's `/strategy`, batch's `strategy`
/// field and `/v1/ask` use.
public enum StrategyKind: String, Sendable, Hashable, Codable, CaseIterable {
  /// Retrieve, reorder to the edges, answer once.
  case rag
  /// Chain of clarifications: ask one clarifying question, point back to the paragraphs that
  /// answer it (scored relevance), answer it, then answer the question; up to 3 rounds.
  case coc
  /// ExtAgents: seeking agents each read a window of the top documents and extract what bears
  /// on the question; a reasoner reads the ranked extractions in growing batches.
  case agents
  /// Graph of Records: simulate and answer narrow questions over the text, keep the answers as
  /// records, answer from the records and chunks closest to the question; for questions about a
  /// whole document or collection.
  case gor
  /// InftyThink: read the text in order, segment by segment, rewriting a bounded summary with
  /// pinned evidence; for a document far longer than the window when all of it matters.
  case infty
  /// Summarise each window, merge the summaries, answer (the baseline of gor and infty).
  case mapreduce
  /// InfiniRetri with sink correction: read in segments, carry the sentences the question
  /// attends to (in-process model only), answer from them.
  case attend
  /// Routes by question form and collection size, escalating when the answer is not found.
  case auto

  /// One line for `--help` and `/strategy`.
  public var summary: String {
    switch self {
    case .rag: "retrieve, reorder, answer once"
    case .coc: "clarify, point back to paragraphs, answer; for multi-hop questions"
    case .agents: "seeking agents read the top documents, a reasoner answers from their notes; for evidence beyond one window"
    case .gor: "answer simulated questions into records, then from the best records and chunks; for summaries and themes"
    case .infty: "read in segments with a rolling summary and pinned evidence; for one long document"
    case .mapreduce: "summarise every window, merge, answer; the plain baseline for global questions"
    case .attend: "read in segments, carry the sentences the question attends to; in-process model only"
    case .auto: "route by question and collection size; escalate when not found"
    }
  }
}

/// What a strategy reports while it works, so a caller can show progress and stream text.
public enum AnswerEvent: Sendable {
  /// The passages the model will see (prompt order, numbered from 1) and those dropped.
  case passages(used: [Passage], dropped: [Passage])
  /// The evidence sentences, before the model is called.
  case evidence([Evidence])
  /// A piece of the answer's text.
  case text(String)
  /// A step of the trace, as it happens.
  case step(TraceStep)
  /// A line of progress for a terminal ("agent 2/4 reading…"); not part of the answer.
  case progress(String)
  /// The finished answer (always the last event).
  case finished(Answer)
}

/// What a strategy needs besides the question.
public struct AnsweringContext: Sendable {
  public var model: any LanguageModel
  public var embedder: any TextEmbedder
  public var prompts: PromptLibrary
  public var reader: any CorpusReader
  public var parameters: GenerationParameters
  /// The record graph, when answers are kept (`gor` reads and adds to it; nil: `gor` keeps
  /// its records for this question only).
  public var records: (any RecordMemory)?
  /// When the whole request started (for the total time).
  public var started: ContinuousClock.Instant
  /// Stored KV pages of the collection's chunks; when the model can import them
  /// (`PagedPrompting`), `rag` splices a passage's page into its prompt instead of having the
  /// model read the passage (nil: every passage is read).
  public var kvPages: (any KVPageSource)?

  public init(
    model: any LanguageModel, embedder: any TextEmbedder, prompts: PromptLibrary, reader: any CorpusReader,
    parameters: GenerationParameters = .greedy(maxTokens: 256), records: (any RecordMemory)? = nil,
    started: ContinuousClock.Instant = .now, kvPages: (any KVPageSource)? = nil
  ) {
    self.model = model
    self.embedder = embedder
    self.prompts = prompts
    self.reader = reader
    self.parameters = parameters
    self.records = records
    self.started = started
    self.kvPages = kvPages
  }
}

/// A way of answering a question over a collection (single-pass RAG, chain of
/// clarifications, seeking agents, …).
///
/// A strategy reads the collection through `context.reader`, calls the model, records its
/// steps in `log` (which streams them with text and progress), and ends with
/// `AnswerFinisher`, so every strategy's answer carries checked citations and a trace.
public protocol AnsweringStrategy: Sendable {
  var kind: StrategyKind { get }
  /// Answers `question`; events go to `log` as they happen.
  func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer
}

extension AnsweringStrategy {
  /// The name `--strategy` uses.
  public var name: String { kind.rawValue }

  /// Answers `question`, streaming events; the last is `.finished`.
  public func answer(question: String, context: AnsweringContext) -> AsyncThrowingStream<AnswerEvent, any Error> {
    let (stream, continuation) = AsyncThrowingStream<AnswerEvent, any Error>.makeStream()
    let task = Task {
      do {
        let trimmed = question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ReasoningError.emptyQuestion }
        let log = TraceLog { continuation.yield($0) }
        let answer = try await run(question: trimmed, context: context, log: log)
        continuation.yield(.finished(answer))
        continuation.finish()
      } catch {
        continuation.finish(throwing: error)
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  /// Answers without streaming: the finished `Answer`.
  public func answer(question: String, context: AnsweringContext) async throws -> Answer {
    let trimmed = question.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { throw ReasoningError.emptyQuestion }
    return try await run(question: trimmed, context: context, log: TraceLog())
  }
}

/// A traced model call: streams (optionally) and records prompt/answer tokens and seconds.
public struct ModelCall: Sendable {
  public var model: any LanguageModel

  public init(model: any LanguageModel) {
    self.model = model
  }

  /// The reply's text (trimmed) and the seconds to its first piece.
  public struct Reply: Sendable {
    public var text: String
    public var timeToFirstToken: Double?
    public var promptTokens: Int
    public var answerTokens: Int
  }

  /// Calls the model on `messages`; when `streaming`, each piece is also emitted as `.text`.
  /// Generation ends early, like at a stop string, once `until` holds for the text so far.
  /// With `paged` (the same prompt with stored pages in some passages' places) a model that
  /// imports pages answers that instead.
  public func run(
    _ label: String, messages: [ChatMessage], paged: PagedPrompt? = nil, parameters: GenerationParameters, log: TraceLog,
    streaming: Bool = false, until: (@Sendable (String) -> Bool)? = nil
  ) async throws -> Reply {
    let promptTokens = try model.promptTokenCount(messages)
    return try await collect(
      label, promptTokens: promptTokens, log: log, streaming: streaming, until: until,
      stream: {
        if let paged, let pager = model as? any PagedPrompting {
          pager.stream(paged, parameters: parameters)
        } else {
          model.stream(messages, parameters: parameters)
        }
      })
  }

  /// Reads a reply from `stream` (started when called), recording it as a model call of
  /// `promptTokens`.
  func collect(
    _ label: String, promptTokens: Int, log: TraceLog, streaming: Bool, until: (@Sendable (String) -> Bool)?,
    stream: () -> AsyncThrowingStream<String, any Error>
  ) async throws -> Reply {
    let start = ContinuousClock.now
    var ttft: Double?
    var text = ""
    for try await piece in stream() {
      if ttft == nil { ttft = (ContinuousClock.now - start).seconds }
      text += piece
      if streaming { log.emit(.text(piece)) }
      // Leaving the loop ends the stream, which cancels the generation.
      if let until, until(text) { break }
    }
    try Task.checkCancellation()
    let answerTokens = try model.tokenCount(text)
    log.record(
      TraceStep(
        kind: .modelCall, label: label, promptTokens: promptTokens, answerTokens: answerTokens,
        seconds: (ContinuousClock.now - start).seconds))
    return Reply(
      text: text.trimmingCharacters(in: .whitespacesAndNewlines), timeToFirstToken: ttft, promptTokens: promptTokens,
      answerTokens: answerTokens)
  }
}

extension ModelCall {
  /// True when the last finished line of `text` repeats an earlier line: the small model's
  /// loop ("1. The process of … 2. The process of …"), which otherwise runs to the token limit.
  public static func repeatsALine(_ text: String) -> Bool {
    // Finished lines only: the text after the last newline may still grow.
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { Self.lineKey($0) }.filter { !$0.isEmpty }
    guard let last = lines.last else { return false }
    return lines.dropLast().contains(last)
  }

  /// `text` without lines that repeat an earlier one.
  public static func withoutRepeatedLines(_ text: String) -> String {
    var seen = Set<String>()
    return text.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { let key = lineKey($0); return key.isEmpty || seen.insert(key).inserted }
      .joined(separator: "\n")
  }

  /// A line compared without its list marker, case or spacing ("2. X" repeats "1. x").
  static func lineKey(_ line: some StringProtocol) -> String {
    TextAnalysis.normalised(line.drop { !$0.isLetter && !$0.isNumber || $0.isNumber }.trimmingCharacters(in: .whitespaces))
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
