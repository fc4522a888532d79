import Foundation
public import TomeCore

/// Chain of clarifications (AgenticLU, Zhuang et al. 2025; METHODS-ORCHESTRATION.md §3 (f)),
/// training-free and sized for a small model.
///
/// Each round: the model asks one clarifying question about the question and the paragraphs
/// (`coc-clarify.txt`); the pointback searches again with question + clarification, keeps the
/// `prefilter` paragraphs closest to it by the encoder, and pins those the model scores as
/// relevant (a yes/no choice, `choice-relevant.txt`: an untrained model listing paragraph ids
/// is unreliable, §3 (e)); the model answers its clarification from the pinned paragraphs
/// (`coc-clarify-answer.txt`), then answers the question from the pinned paragraphs (first,
/// then rag's passages while they fit: `keepPool`) and the clarification notes
/// (`coc-answer.txt`). A scored self-check (`choice-supported.txt`) ends the chain, else
/// another round runs, up to `depth`. Citations are the paragraphs the final answer read.
public struct CoCStrategy: AnsweringStrategy {
  public struct Configuration: Sendable, Hashable {
    /// Rounds at most (the paper's tree depth ≤ 3).
    public var depth: Int
    /// Paragraphs the encoder keeps for the scored relevance check per round (§3 (f): 24–32 on
    /// a large model; fewer here, each check is a prefill on a 2-core CPU).
    public var prefilter: Int
    /// Hits the pointback search adds per round.
    public var searchDepth: Int
    /// A paragraph is pinned when the model's P(yes) reaches this.
    public var relevanceThreshold: Double
    /// The self-check accepts the answer when P(yes) reaches this.
    public var acceptThreshold: Double
    /// Tokens for the clarifying question and for its answer.
    public var noteTokens: Int
    /// Most prompt tokens of the clarifying call (the best paragraphs only: reading the whole
    /// pool took 4 s per round for a 20-token question).
    public var clarifyTokens: Int
    /// The final answer reads the pinned paragraphs first, then rag's passages while they fit
    /// (true), or the pinned paragraphs only (false, the method as published). Why: on 10
    /// HotpotQA questions the pinned paragraphs alone held 0.40 of the supporting paragraphs
    /// against 0.90 for rag's passages; SmolLM2's relevance choice drops the second hop more
    /// often than the pointback search finds it.
    public var keepPool: Bool

    public init(
      depth: Int = 3, prefilter: Int = 6, searchDepth: Int = 8, relevanceThreshold: Double = 0.5,
      acceptThreshold: Double = 0.5, noteTokens: Int = 40, clarifyTokens: Int = 1_536, keepPool: Bool = true
    ) {
      self.clarifyTokens = clarifyTokens
      self.keepPool = keepPool
      self.depth = depth
      self.prefilter = prefilter
      self.searchDepth = searchDepth
      self.relevanceThreshold = relevanceThreshold
      self.acceptThreshold = acceptThreshold
      self.noteTokens = noteTokens
    }
  }

  public var configuration: Configuration
  /// Budget, ordering and evidence settings shared with `rag`.
  public var rag: RAGStrategy.Configuration
  public var kind: StrategyKind { .coc }

  public init(configuration: Configuration = .init(), rag: RAGStrategy.Configuration = .init()) {
    self.configuration = configuration
    self.rag = rag
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    let ragStrategy = RAGStrategy(configuration: rag)
    let budget = try ragStrategy.passageBudget(question: question, context: context)
    let pool = try log.timed(.search, "passages", detail: question, count: \.count) {
      try context.reader.passages(for: question, budget: budget) { try ragStrategy.passageCost($0, number: $1, context: context) }
    }
    guard !pool.isEmpty else {
      return try await ragStrategy.answer(question: question, passages: [], context: context, log: log, strategy: name)
    }
    let prompts = try StrategyPrompts(context)
    var pinned: [Passage] = []
    var notes: [String] = []
    var result: Answer?
    for round in 1...max(1, configuration.depth) {
      try Task.checkCancellation()
      log.emit(.progress("coc round \(round)/\(configuration.depth): clarifying"))
      let shown = try prompts.fitting(
        Self.unique(pinned + pool),
        tokens: prompts.room(
          "coc-clarify.txt", ["passages": "", "question": question], answerTokens: configuration.noteTokens,
          limit: min(rag.contextTokens ?? .max, configuration.clarifyTokens)))
      let asked = try await prompts.generate(
        "clarify \(round)", "coc-clarify.txt", ["passages": try prompts.blocks(shown), "question": question],
        maxTokens: configuration.noteTokens, log: log)
      let clarification = Self.clarification(from: asked.text) ?? question

      log.emit(.progress("coc round \(round)/\(configuration.depth): pointing back"))
      let kept = try await pointBack(question: question, clarification: clarification, pool: pool, pinned: pinned, prompts: prompts, log: log)
      pinned = Self.unique(pinned + kept)

      let clarificationPassages = try prompts.fitting(
        kept, tokens: prompts.room("coc-clarify-answer.txt", ["passages": "", "clarification": clarification], answerTokens: configuration.noteTokens, limit: rag.contextTokens))
      let found = try await prompts.generate(
        "answer clarification \(round)", "coc-clarify-answer.txt",
        ["passages": try prompts.blocks(clarificationPassages), "clarification": clarification],
        maxTokens: configuration.noteTokens, log: log)
      notes.append("- \(clarification) \(found.text.split(separator: "\n").first.map(String.init) ?? "")")

      log.emit(.progress("coc round \(round)/\(configuration.depth): answering"))
      let noteText = notes.joined(separator: "\n")
      let room = try prompts.room(
        "coc-answer.txt", ["passages": "", "question": question, "notes": noteText], answerTokens: context.parameters.maxTokens,
        limit: rag.contextTokens)
      let read = configuration.keepPool ? Self.unique(pinned + pool) : pinned
      let final = rag.ordering.apply(try prompts.fitting(read, tokens: room))
      var parameters = context.parameters
      parameters.stop += ["\nQuestion:", "<|im_end|>"]
      let reply = try await ModelCall(model: context.model).run(
        "answer \(round)", messages: prompts.messages("coc-answer.txt", ["question": question, "passages": try prompts.blocks(final), "notes": noteText]),
        parameters: parameters, log: log)
      let notFound = TextAnalysis.normalised(reply.text).contains(RAGStrategy.notFoundPhrase)
      var accepted = notFound || round == configuration.depth
      if !accepted {
        let values = ["passages": try prompts.blocks(final), "question": question]
        let baseline = try await prompts.baseline("self-check baseline", "choice-supported.txt", values.merging(["answer": "N/A"]) { a, _ in a }, log: log)
        let supported = try await prompts.yes(
          "self-check \(round)", "choice-supported.txt", values.merging(["answer": reply.text]) { a, _ in a }, baseline: baseline, log: log)
        accepted = supported >= configuration.acceptThreshold
      }
      guard accepted else { continue }
      let evidence = try EvidenceSelector(embedder: context.embedder, configuration: rag.evidence, model: context.model).select(question: question, passages: final)
      let shownIDs = Set(final.flatMap(\.chunkIDs))
      let draft = AnswerDraft(
        question: question, strategy: name, text: reply.text, passages: final,
        dropped: Self.unique(pool).filter { shownIDs.isDisjoint(with: $0.chunkIDs) }, evidence: evidence,
        timeToFirstToken: reply.timeToFirstToken)
      log.emit(.evidence(evidence))
      log.emit(.passages(used: final, dropped: draft.dropped))
      log.emit(.text(reply.text))
      result = try AnswerFinisher(support: rag.support).finish(draft, context: context, log: log)
      break
    }
    guard let result else { throw CancellationError() }
    return result
  }

  /// The paragraphs to pin for `clarification`: pool and a fresh search, prefiltered by the
  /// encoder, kept when the model scores them relevant; the encoder's best when none is.
  func pointBack(
    question: String, clarification: String, pool: [Passage], pinned: [Passage], prompts: StrategyPrompts, log: TraceLog
  ) async throws -> [Passage] {
    let query = clarification == question ? question : question + " " + clarification
    let found = try log.timed(.search, "pointback", detail: clarification, count: \.count) {
      try prompts.context.reader.search(query, k: configuration.searchDepth, documents: nil)
    }
    let pinnedIDs = Set(pinned.flatMap(\.chunkIDs))
    let candidates = Self.unique(pool + found).filter { pinnedIDs.isDisjoint(with: $0.chunkIDs) }
    guard !candidates.isEmpty else { return [] }
    let vectors = try prompts.context.embedder.embed(passages: candidates.map(\.text))
    let target = try prompts.context.embedder.embed(query: query)
    let similarity = candidates.indices.map { i in Similarity.cosine(target, vectors[row: i]) }
    let shortlist = candidates.indices.sorted { similarity[$0] > similarity[$1] }.prefix(configuration.prefilter)
    var kept: [Passage] = []
    let asked = "\(question)\nSub-question: \(clarification)"
    let baseline = try await prompts.baseline("relevance baseline", "choice-relevant.txt", ["question": asked, "text": "N/A"], log: log)
    for index in shortlist {
      try Task.checkCancellation()
      let p = try await prompts.yes(
        "relevance of \(RAGStrategy.sourceLabel(candidates[index].span))", "choice-relevant.txt",
        ["question": asked, "text": candidates[index].text], baseline: baseline, log: log)
      if p >= configuration.relevanceThreshold { kept.append(candidates[index]) }
    }
    if kept.isEmpty, let best = shortlist.first {
      log.record(TraceStep(kind: .note, label: "pointback", detail: "no paragraph scored relevant; pinned the encoder's best"))
      kept = [candidates[best]]
    }
    return kept
  }

  /// The first line of the model's clarifying question, labels and quotes stripped; nil when
  /// nothing is left.
  static func clarification(from reply: String) -> String? {
    guard var line = reply.split(separator: "\n").first.map(String.init) else { return nil }
    for label in ["Clarifying question:", "Question:", "Q:"] where line.hasPrefix(label) {
      line = String(line.dropFirst(label.count))
    }
    line = line.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"'")))
    return TextAnalysis.contentWords(line).isEmpty ? nil : line
  }

  /// `passages` without repeats (by chunk), first occurrence kept.
  static func unique(_ passages: [Passage]) -> [Passage] {
    var seen = Set<ChunkID>()
    return passages.filter { p in
      guard seen.isDisjoint(with: p.chunkIDs) else { return false }
      seen.formUnion(p.chunkIDs)
      return true
    }
  }
}
