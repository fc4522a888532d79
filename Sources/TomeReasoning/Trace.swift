import Foundation
import Synchronization

/// One step a strategy took: a search, a model call, a decision among fixed options, or a note.
///
/// Every answer carries its steps, so a user (`ask --trace`) and a benchmark (model calls,
/// tokens, seconds per question) see what a strategy did and why.
public struct TraceStep: Sendable, Hashable, Codable {
  public enum Kind: String, Sendable, Hashable, Codable {
    case search, read
    case modelCall = "model_call"
    case decision, note
  }

  public var kind: Kind
  /// What the step was for ("clarify", "relevance of para 3", "route").
  public var label: String
  /// The query searched, the decision's question or the note's text.
  public var detail: String?
  /// Hits a search returned or passages a read returned.
  public var results: Int?
  public var promptTokens: Int?
  public var answerTokens: Int?
  public var seconds: Double?
  /// A decision's options, their scores (log-probabilities, or 0 / −∞ when parsed) and the pick.
  public var options: [String]?
  public var scores: [Double]?
  public var chosen: String?
  /// How a decision was made: `logprob` (scored by the model) or `parsed` (read from a reply).
  public var method: String?

  public init(
    kind: Kind, label: String, detail: String? = nil, results: Int? = nil, promptTokens: Int? = nil,
    answerTokens: Int? = nil, seconds: Double? = nil, options: [String]? = nil, scores: [Double]? = nil,
    chosen: String? = nil, method: String? = nil
  ) {
    self.kind = kind
    self.label = label
    self.detail = detail
    self.results = results
    self.promptTokens = promptTokens
    self.answerTokens = answerTokens
    self.seconds = seconds
    self.options = options
    self.scores = scores
    self.chosen = chosen
    self.method = method
  }

  enum CodingKeys: String, CodingKey {
    case kind, label, detail, results, seconds, options, scores, chosen, method
    case promptTokens = "prompt_tokens"
    case answerTokens = "answer_tokens"
  }

  /// Reads what `encode(to:)` writes: a null score is −∞.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    kind = try c.decode(Kind.self, forKey: .kind)
    label = try c.decode(String.self, forKey: .label)
    detail = try c.decodeIfPresent(String.self, forKey: .detail)
    results = try c.decodeIfPresent(Int.self, forKey: .results)
    promptTokens = try c.decodeIfPresent(Int.self, forKey: .promptTokens)
    answerTokens = try c.decodeIfPresent(Int.self, forKey: .answerTokens)
    seconds = try c.decodeIfPresent(Double.self, forKey: .seconds)
    options = try c.decodeIfPresent([String].self, forKey: .options)
    scores = try c.decodeIfPresent([Double?].self, forKey: .scores)?.map { $0 ?? -.infinity }
    chosen = try c.decodeIfPresent(String.self, forKey: .chosen)
    method = try c.decodeIfPresent(String.self, forKey: .method)
  }

  /// Writes every key, an absent value as null (the rule of `AnswerRecord`, which holds the
  /// trace), and a score that is not finite as null: a parsed decision scores the options it
  /// did not pick −∞, and JSON has no infinity (`JSONEncoder` refuses to write one, which
  /// failed the whole answer's JSON).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(kind, forKey: .kind)
    try c.encode(label, forKey: .label)
    try c.encode(detail, forKey: .detail)
    try c.encode(results, forKey: .results)
    try c.encode(promptTokens, forKey: .promptTokens)
    try c.encode(answerTokens, forKey: .answerTokens)
    try c.encode(seconds, forKey: .seconds)
    try c.encode(options, forKey: .options)
    try c.encode(scores?.map { $0.isFinite ? $0 : nil }, forKey: .scores)
    try c.encode(chosen, forKey: .chosen)
    try c.encode(method, forKey: .method)
  }

  /// One line for a terminal: `model_call clarify: 812→24 tokens, 1.9 s`.
  public var summary: String {
    var parts: [String] = []
    if let results { parts.append("\(results) \(kind == .search ? "hits" : "passages")") }
    if let promptTokens, let answerTokens { parts.append("\(promptTokens)→\(answerTokens) tokens") }
    if let chosen, let options, let scores {
      let pairs = zip(options, scores).map { "\($0)=\($1.isFinite ? String(format: "%.2f", $1) : "-inf")" }
      parts.append("chose \(chosen) (\(pairs.joined(separator: " ")), \(method ?? "?"))")
    }
    if let seconds { parts.append(String(format: "%.2f s", seconds)) }
    var line = "\(kind.rawValue) \(label)"
    if let detail, !detail.isEmpty { line += " \u{201C}\(detail.count > 80 ? String(detail.prefix(79)) + "…" : detail)\u{201D}" }
    return parts.isEmpty ? line : line + ": " + parts.joined(separator: ", ")
  }
}

/// Collects a run's steps and forwards each one, and every other event, to the caller's stream.
///
/// A class because a strategy's helpers (reader calls, model calls, choices) all append to the
/// same trace; the lock keeps it safe when agents run model calls concurrently.
public final class TraceLog: Sendable {
  private let steps = Mutex<[TraceStep]>([])
  private let retrieval = Mutex<Double>(0)
  private let sink: @Sendable (AnswerEvent) -> Void

  public init(sink: @escaping @Sendable (AnswerEvent) -> Void = { _ in }) {
    self.sink = sink
  }

  /// A log for an inner answer (a question `gor` simulates and answers): its steps and
  /// progress go to this trace and stream; its text, passages and evidence go nowhere, since
  /// they are not the answer the caller is waiting for.
  public func inner() -> TraceLog {
    TraceLog { [self] event in
      switch event {
      case .step(let step): record(step)
      case .progress: emit(event)
      case .text, .evidence, .passages, .finished: break
      }
    }
  }

  /// Records `step` and streams it.
  public func record(_ step: TraceStep) {
    steps.withLock { $0.append(step) }
    if step.kind == .search || step.kind == .read { retrieval.withLock { $0 += step.seconds ?? 0 } }
    sink(.step(step))
  }

  /// Streams a non-trace event (text, evidence, passages).
  public func emit(_ event: AnswerEvent) { sink(event) }

  /// The steps so far, in order.
  public var recorded: [TraceStep] { steps.withLock { $0 } }

  /// Seconds spent in searches and reads so far.
  public var retrievalSeconds: Double { retrieval.withLock { $0 } }

  /// Runs `body` (a search or read returning passages) and records it with its time.
  public func timed<T>(_ kind: TraceStep.Kind, _ label: String, detail: String? = nil, count: (T) -> Int, _ body: () throws -> T) rethrows -> T {
    let start = ContinuousClock.now
    let value = try body()
    record(TraceStep(kind: kind, label: label, detail: detail, results: count(value), seconds: (ContinuousClock.now - start).seconds))
    return value
  }
}
