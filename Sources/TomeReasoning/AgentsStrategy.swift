import Foundation
public import TomeCore

/// ExtAgents (Liu et al. 2025; METHODS-ORCHESTRATION.md §5 (f)): seeking agents each read one
/// window of the input and extract what bears on the question; a reasoner reads the ranked
/// extractions in growing batches (1, 2, 4, …) until it can answer.
///
/// The input is the top documents a broad search finds, filling `agents` windows (a document
/// longer than what is left contributes its hits with their neighbours), or the whole
/// collection (`scope = .all`). Whether a window has anything is a scored choice
/// (`choice-relevant.txt`), so "NO INFORMATION" never depends on the model writing it; so is
/// whether the reasoner can answer from the top r extractions (`choice-answerable.txt`).
/// Extractions are ranked by encoder similarity to the question and deduplicated; when a
/// round ends without an answer, the scratchpad (capped at a quarter of the window) is
/// broadcast to every agent for the next round, so an agent can look for the bridge entity
/// another one found. The last round's reasoner must answer. Each extraction is cited by the
/// chunk of its window closest to it.
public struct AgentsStrategy: AnsweringStrategy {
  public enum Scope: String, Sendable, Hashable, Codable, CaseIterable {
    /// The top documents a broad search finds.
    case top
    /// Every document of the collection.
    case all
  }

  public struct Configuration: Sendable, Hashable {
    /// Windows read in `.top` scope.
    public var agents: Int
    /// Tokens per agent window (capped at half the model's context, §5 (f)).
    public var windowTokens: Int
    public var rounds: Int
    public var scope: Scope
    /// Hits of the broad search that choose the documents.
    public var searchDepth: Int
    /// Agents run at once (1 on the in-process model; more over an endpoint pool).
    public var parallel: Int
    public var extractionTokens: Int
    /// A window is read when P(relevant) reaches this; below it the agent reports no information.
    public var relevanceThreshold: Double
    /// The reasoner answers from the top r extractions when P(answerable) reaches this.
    public var answerableThreshold: Double

    public init(
      agents: Int = 4, windowTokens: Int = 1536, rounds: Int = 3, scope: Scope = .top, searchDepth: Int = 24,
      parallel: Int = 1, extractionTokens: Int = 64, relevanceThreshold: Double = 0.5, answerableThreshold: Double = 0.5
    ) {
      self.agents = agents
      self.windowTokens = windowTokens
      self.rounds = rounds
      self.scope = scope
      self.searchDepth = searchDepth
      self.parallel = parallel
      self.extractionTokens = extractionTokens
      self.relevanceThreshold = relevanceThreshold
      self.answerableThreshold = answerableThreshold
    }
  }

  /// What one agent found: the text, the window it read and the chunk it is cited by.
  struct Extraction: Sendable {
    var text: String
    var window: Int
    var source: Passage
    var score: Double = 0
  }

  public var configuration: Configuration
  public var rag: RAGStrategy.Configuration
  public var kind: StrategyKind { .agents }

  public init(configuration: Configuration = .init(), rag: RAGStrategy.Configuration = .init()) {
    self.configuration = configuration
    self.rag = rag
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    let prompts = try StrategyPrompts(context)
    let window = max(256, min(configuration.windowTokens, min(context.model.contextLength, rag.contextTokens ?? .max) / 2))
    let windows = try self.windows(question: question, tokens: window, context: context, log: log)
    log.record(TraceStep(kind: .note, label: "agents", detail: "\(windows.count) windows of up to \(window) tokens"))
    var extractions: [Extraction] = []
    // Windows whose agent found something in round 1; the others are not read again.
    var informative = Set<Int>()
    for round in 1...max(1, configuration.rounds) {
      let known = try scratchpad(extractions, tokens: window / 4, context: context)
      let found = try await seek(question: question, windows: round == 1 ? windows : windows.indices.map { informative.contains($0) ? windows[$0] : [] }, known: known, round: round, prompts: prompts, log: log)
      if round == 1 { informative = Set(found.map(\.window)) }
      let fresh = try deduplicated(found, against: extractions, embedder: context.embedder)
      if fresh.isEmpty && round > 1 {
        log.record(TraceStep(kind: .note, label: "round \(round)", detail: "no agent found anything new"))
      }
      extractions = try ranked(extractions + fresh, question: question, context: context)
      guard !extractions.isEmpty else { break }
      let last = round == configuration.rounds || fresh.isEmpty
      if let answer = try await reason(question: question, extractions: extractions, forced: last, round: round, prompts: prompts, log: log) {
        return answer
      }
      if fresh.isEmpty { break }
    }
    let text = "Not found in the collection."
    log.emit(.text(text))
    return try AnswerFinisher(support: rag.support).finish(
      AnswerDraft(question: question, strategy: name, text: text, passages: extractions.map(\.source)), context: context, log: log)
  }

  /// The input split into windows of at most `tokens`, each a list of chunks in document order.
  func windows(question: String, tokens: Int, context: AnsweringContext, log: TraceLog) throws -> [[Passage]] {
    let reader = context.reader
    var chosen: [[Passage]] = []
    switch configuration.scope {
    case .all:
      for document in try reader.documents() {
        chosen.append(try log.timed(.read, "read \(document.path)", count: \.count) { try reader.chunks(of: document.id) })
      }
    case .top:
      let hits = try log.timed(.search, "broad search", detail: question, count: \.count) {
        try reader.search(question, k: configuration.searchDepth, documents: nil)
      }
      var order: [DocumentID] = []
      for hit in hits { if let d = hit.document, !order.contains(d) { order.append(d) } }
      var left = configuration.agents * tokens
      for document in order where left > 0 {
        let chunks = try log.timed(.read, "read document", count: \.count) { try reader.chunks(of: document) }
        let cost = try chunks.reduce(0) { $0 + (try context.model.tokenCount($1.text)) }
        if cost <= left {
          chosen.append(chunks)
          left -= cost
          continue
        }
        // Too long for what is left: its hits and their neighbours, in document order.
        let hitIDs = Set(hits.filter { $0.document == document }.map(\.id))
        let ordinals = chunks.indices.filter { hitIDs.contains(chunks[$0].id) }
        var wanted = Set<Int>()
        for i in ordinals { for j in max(0, i - 1)...min(chunks.count - 1, i + 1) { wanted.insert(j) } }
        var part: [Passage] = []
        for i in wanted.sorted() {
          let c = try context.model.tokenCount(chunks[i].text)
          if c > left { break }
          left -= c
          part.append(chunks[i])
        }
        if !part.isEmpty { chosen.append(part) }
      }
    }
    return try ReadingPlan.pack(chosen.flatMap { $0 }, tokens: tokens, model: context.model).runs
  }

  /// Each agent's extraction this round, in window order; windows with no information give none.
  ///
  /// In round 1 each agent first asks whether its window has anything (a scored, calibrated
  /// yes/no) and extracts when it does. SmolLM2's P(yes) for a 1,000-token window hardly
  /// depends on the window (within ±0.2 nats of the content-free baseline), so a threshold
  /// alone can leave every window out: when fewer than `minimumInformative` of the windows pass,
  /// the best-scored others are read too.
  func seek(
    question: String, windows: [[Passage]], known: String, round: Int, prompts: StrategyPrompts, log: TraceLog
  ) async throws -> [Extraction] {
    let knownBlock = known.isEmpty ? "" : "Already known from other parts of the text:\n\(known)\n\n"
    let baseline =
      round == 1 ? try await prompts.baseline("relevance baseline", "choice-relevant.txt", ["question": question, "text": "N/A"], log: log) : nil
    let texts = windows.map { $0.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: "\n\n") }
    let extract: @Sendable (Int) async throws -> Extraction? = { index in
      let reply = try await prompts.generate(
        "agent \(index + 1) extracts", "agents-extract.txt", ["text": texts[index], "known": knownBlock, "question": question],
        maxTokens: configuration.extractionTokens, log: log)
      guard TextAnalysis.contentWords(reply.text).count >= 2,
        !TextAnalysis.normalised(reply.text).contains("no information")
      else { return nil }
      return Extraction(text: reply.text, window: index, source: try Self.source(of: reply.text, in: windows[index], embedder: prompts.context.embedder))
    }
    // (extraction, relevance) per window; relevance is nil when it was not asked.
    let agent: @Sendable (Int) async throws -> (Extraction?, Double?) = { index in
      guard !windows[index].isEmpty else { return (nil, nil) }
      log.emit(.progress("agents round \(round): agent \(index + 1)/\(windows.count) reading"))
      // Whether a window has anything is asked once (round 1): the question and the window do
      // not change, so neither would the answer. The relevance prompt and the extraction prompt
      // begin alike (the window, then the question), so the extraction reuses the window's
      // cached keys and values instead of reading it again.
      guard round == 1 else { return (try await extract(index), nil) }
      let relevant = try await prompts.yes(
        "agent \(index + 1) has information", "choice-relevant.txt", ["question": question, "text": texts[index]], baseline: baseline, log: log)
      guard relevant >= configuration.relevanceThreshold else { return (nil, relevant) }
      return (try await extract(index), relevant)
    }
    var found = try await Self.concurrently(windows.indices.map { $0 }, width: configuration.parallel, agent)
    if round == 1 {
      let passed = found.filter { $0.value.1.map { $0 >= configuration.relevanceThreshold } ?? false }.count
      let wanted = min(windows.count, max(1, (windows.count + 1) / 2))
      if passed < wanted {
        let others = found.filter { ($0.value.1 ?? 1) < configuration.relevanceThreshold }.sorted { $0.value.1 ?? 0 > $1.value.1 ?? 0 }
          .prefix(wanted - passed).map(\.key)
        log.record(TraceStep(kind: .note, label: "agents", detail: "\(passed) of \(windows.count) windows scored relevant; also reading the next best \(others.count)"))
        for (index, extraction) in try await Self.concurrently(others, width: configuration.parallel, extract) {
          found[index] = (extraction, found[index]?.1)
        }
      }
    }
    return found.keys.sorted().compactMap { found[$0]?.0 }
  }

  /// `body` over `items`, at most `width` at once; results by item.
  static func concurrently<T: Sendable>(
    _ items: [Int], width: Int, _ body: @escaping @Sendable (Int) async throws -> T
  ) async throws -> [Int: T] {
    var out: [Int: T] = [:]
    var next = 0
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
      func add() {
        let item = items[next]
        group.addTask { (item, try await body(item)) }
        next += 1
      }
      while next < min(max(1, width), items.count) { add() }
      while let (item, value) = try await group.next() {
        out[item] = value
        if next < items.count { add() }
      }
    }
    return out
  }

  /// The chunk of `window` closest in meaning to `text`.
  static func source(of text: String, in window: [Passage], embedder: any TextEmbedder) throws -> Passage {
    guard window.count > 1 else { return window[0] }
    let vectors = try embedder.embed(passages: [text] + window.map(\.text))
    let target = vectors[row: 0]
    let scores = window.indices.map { i in Similarity.cosine(target, vectors[row: i + 1]) }
    return window[scores.indices.max { scores[$0] < scores[$1] } ?? 0]
  }

  /// `found` without extractions that repeat a known one or each other: the same normalised
  /// text, or an encoder cosine of `duplicateSimilarity` or more (a later round mostly restates
  /// what round 1 found in other words; counting that as news kept every question going for
  /// all rounds).
  func deduplicated(_ found: [Extraction], against known: [Extraction], embedder: any TextEmbedder) throws -> [Extraction] {
    guard !found.isEmpty else { return [] }
    let all = known + found
    let vectors = try embedder.embed(passages: all.map(\.text))
    var kept = Array(known.indices)
    var seen = Set(known.map { TextAnalysis.normalised($0.text) })
    var out: [Extraction] = []
    for i in known.count..<all.count {
      guard seen.insert(TextAnalysis.normalised(all[i].text)).inserted else { continue }
      let repeats = kept.contains { j in
        Similarity.cosine(vectors[row: i], vectors[row: j]) >= Self.duplicateSimilarity
      }
      guard !repeats else { continue }
      kept.append(i)
      out.append(all[i])
    }
    return out
  }

  /// Encoder cosine at which two extractions say the same thing.
  static let duplicateSimilarity = 0.9

  /// Extractions by encoder similarity to the question, best first.
  func ranked(_ extractions: [Extraction], question: String, context: AnsweringContext) throws -> [Extraction] {
    guard !extractions.isEmpty else { return [] }
    let vectors = try context.embedder.embed(passages: extractions.map(\.text))
    let target = try context.embedder.embed(query: question)
    var scored = extractions
    for i in scored.indices { scored[i].score = Similarity.cosine(target, vectors[row: i]) }
    return scored.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
      .map(\.element)
  }

  /// The best extractions as bullet lines, within `tokens`.
  func scratchpad(_ extractions: [Extraction], tokens: Int, context: AnsweringContext) throws -> String {
    var lines: [String] = []
    var used = 0
    for e in extractions {
      let line = "- " + e.text.replacingOccurrences(of: "\n", with: " ")
      let cost = try context.model.tokenCount(line) + 1
      if used + cost > tokens { break }
      used += cost
      lines.append(line)
    }
    return lines.joined(separator: "\n")
  }

  /// The reasoner: top 1, 2, 4, … extractions until the model scores them answerable (or,
  /// when `forced`, all of them), then the answer; nil when it never could.
  func reason(
    question: String, extractions: [Extraction], forced: Bool, round: Int, prompts: StrategyPrompts, log: TraceLog
  ) async throws -> Answer? {
    let baseline = forced ? nil : try await prompts.baseline("answerable baseline", "choice-answerable.txt", ["notes": "N/A", "question": question], log: log)
    var r = 1
    while true {
      let top = Array(extractions.prefix(r))
      let notes = top.enumerated().map { "[\($0 + 1)] \($1.text.replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n")
      let all = r >= extractions.count
      var answerable = forced && all
      if !answerable {
        let p = try await prompts.yes(
          "answerable from top \(r)", "choice-answerable.txt", ["notes": notes, "question": question], baseline: baseline, log: log)
        answerable = p >= configuration.answerableThreshold
      }
      if answerable {
        var parameters = prompts.context.parameters
        parameters.stop += ["\nQuestion:", "<|im_end|>"]
        let reply = try await ModelCall(model: prompts.context.model).run(
          "answer (round \(round), top \(r))", messages: prompts.messages("agents-answer.txt", ["notes": notes, "question": question]),
          parameters: parameters, log: log, streaming: true)
        let sources = top.map(\.source)
        let evidence = try EvidenceSelector(embedder: prompts.context.embedder, configuration: rag.evidence, model: prompts.context.model)
          .select(question: question, passages: CoCStrategy.unique(sources))
        log.emit(.evidence(evidence))
        return try AnswerFinisher(support: rag.support).finish(
          AnswerDraft(
            question: question, strategy: name, text: reply.text, passages: sources, evidence: evidence,
            timeToFirstToken: reply.timeToFirstToken),
          context: prompts.context, log: log)
      }
      if all { return nil }
      r = min(r * 2, extractions.count)
    }
  }
}
