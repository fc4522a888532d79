import Foundation
public import TomeCore

/// The pieces every multi-call strategy shares: rendering a template into chat messages,
/// numbering passages, fitting them into a token budget, and yes/no decisions scored by the
/// model.
struct StrategyPrompts: Sendable {
  let context: AnsweringContext
  let system: String
  let passageTemplate: PromptTemplate

  init(_ context: AnsweringContext) throws {
    self.context = context
    system = try context.prompts.template("rag-system.txt").text.trimmingCharacters(in: .whitespacesAndNewlines)
    passageTemplate = try context.prompts.template("rag-passage.txt")
  }

  /// The system message and the user message `template` renders from `values`.
  func messages(_ template: String, _ values: [String: String]) throws -> [ChatMessage] {
    [.system(system), .user(try context.prompts.template(template).render(values))]
  }

  /// `passages` as numbered blocks (`[1] …`), numbered from `first`.
  func blocks(_ passages: [Passage], first: Int = 1) throws -> String {
    try passages.enumerated().map { i, p in
      try passageTemplate.render([
        "n": "\(first + i)", "source": RAGStrategy.sourceLabel(p.span),
        "text": p.text.trimmingCharacters(in: .whitespacesAndNewlines),
      ]).trimmingCharacters(in: .newlines)
    }.joined(separator: "\n\n")
  }

  /// The longest prefix of `passages` whose blocks fit in `tokens`.
  func fitting(_ passages: [Passage], tokens: Int) throws -> [Passage] {
    var used = 0
    var kept: [Passage] = []
    for p in passages {
      let cost = try context.model.tokenCount(try blocks([p], first: kept.count + 1) + "\n\n")
      if used + cost > tokens { break }
      used += cost
      kept.append(p)
    }
    return kept
  }

  /// Tokens left for passages in a prompt rendered from `template` with `values` (passages
  /// empty), keeping `answerTokens` for the reply and within `limit` when given.
  func room(_ template: String, _ values: [String: String], answerTokens: Int, limit: Int? = nil) throws -> Int {
    let overhead = try context.model.promptTokenCount(messages(template, values))
    return min(context.model.contextLength, limit ?? .max) - overhead - answerTokens
  }

  /// The model's probability of "yes" (against "no") for the question `template` asks; with
  /// `baseline`, calibrated against it.
  ///
  /// Why calibrate: SmolLM2-135M answers "no" to nearly every relevance question (P(yes)
  /// 0.2–0.3 on relevant and irrelevant paragraphs alike), so a fixed 0.5 threshold keeps
  /// nothing. Contextual calibration (Zhao et al. 2021) divides the odds by those of the same
  /// prompt with a content-free input ("N/A"): 0.5 then means "as likely yes as for nothing".
  func yes(_ label: String, _ template: String, _ values: [String: String], baseline: Double? = nil, log: TraceLog) async throws -> Double {
    let choice = try await Chooser(model: context.model).choose(
      label, messages: messages(template, values), options: ["yes", "no"], fallback: 1, log: log
    ) { choice, step in
      // The trace shows the pick the strategy acts on: the calibrated one.
      guard let baseline, choice.method == .logprob else { return }
      let p = choice.probability(of: 0)
      let calibrated = Self.calibrated(p, baseline: baseline)
      step.chosen = calibrated >= 0.5 ? "yes" : "no"
      step.detail = String(format: "P(yes) %.2f, calibrated %.2f against %.2f for a content-free input", p, calibrated, baseline)
    }
    let p = choice.probability(of: 0)
    guard let baseline, choice.method == .logprob else { return p }
    return Self.calibrated(p, baseline: baseline)
  }

  /// P(yes) for `template` with `neutral` values (content-free input), for `yes(baseline:)`.
  func baseline(_ label: String, _ template: String, _ values: [String: String], log: TraceLog) async throws -> Double? {
    guard context.model is any ChoiceScoring else { return nil }
    return try await yes(label, template, values, log: log)
  }

  /// `p` with its odds divided by `baseline`'s odds.
  static func calibrated(_ p: Double, baseline: Double) -> Double {
    let clamp = { (x: Double) in min(max(x, 1e-6), 1 - 1e-6) }
    let odds = (clamp(p) / (1 - clamp(p))) / (clamp(baseline) / (1 - clamp(baseline)))
    return odds / (1 + odds)
  }

  /// A traced model call of at most `maxTokens` tokens (greedy, one paragraph), optionally streamed.
  func generate(
    _ label: String, _ template: String, _ values: [String: String], maxTokens: Int, log: TraceLog, streaming: Bool = false
  ) async throws -> ModelCall.Reply {
    var parameters = context.parameters
    parameters.maxTokens = maxTokens
    parameters.stop += ["\nQuestion:", "<|im_end|>", "\n\n"]
    return try await ModelCall(model: context.model).run(
      label, messages: messages(template, values), parameters: parameters, log: log, streaming: streaming)
  }

  /// Finishes `draft` as "not found" without calling the model (`detail`, when given, is the
  /// trace note saying why).
  func notFound(_ draft: AnswerDraft, detail: String? = nil, support: SupportCheck, log: TraceLog) throws -> Answer {
    var draft = draft
    draft.text = "Not found in the collection."
    if let detail { log.record(TraceStep(kind: .note, label: "not found", detail: detail)) }
    log.emit(.text(draft.text))
    return try AnswerFinisher(support: support).finish(draft, context: context, log: log)
  }

  /// The final answer of a reading strategy: one streamed call on `template` (ending at a
  /// repeated line), then the shared finishing step over `draft`'s passages. With `filter`,
  /// the call goes through GemFilter, which keeps all but `values["passages"]`.
  func finalAnswer(
    _ template: String, _ values: [String: String], draft: AnswerDraft, support: SupportCheck, log: TraceLog,
    filter: GemFilter.Configuration? = nil
  ) async throws -> Answer {
    var parameters = context.parameters
    parameters.stop += ["\nQuestion:", "<|im_end|>"]
    var bare = values
    bare["passages"] = ""
    let reply = try await ModelCall(model: context.model).run(
      "answer", messages: messages(template, values), bare: messages(template, bare), filter: filter,
      parameters: parameters, log: log, streaming: true, until: ModelCall.repeatsALine)
    var draft = draft
    draft.text = reply.text
    draft.timeToFirstToken = reply.timeToFirstToken
    return try AnswerFinisher(support: support).finish(draft, context: context, log: log)
  }
}
