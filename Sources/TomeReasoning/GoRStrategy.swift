import Foundation
import Synchronization
public import TomeCore

/// Graph of Records, training-free (Zhang, Feng & You 2024; METHODS-ORCHESTRATION.md §2 (f)):
/// for a question about a whole document or collection, answer many narrow questions first,
/// keep each answer as a record linked to the chunks behind it, then write the answer from the
/// records and chunks closest to the question.
///
/// Steps: the text (the reader's documents, in order) is cut into `questions` equal strata. A
/// stratum is covered when a stored record cites one of its chunks (or, for a simulated
/// record, was simulated from one); for each uncovered stratum the model writes one question
/// its middle chunk answers (`gor-question.txt`; when the reply is not a question, one is made
/// from the chunk's key words), and `rag` answers it from that chunk and what retrieval adds.
/// Each answer becomes a record (`context.records`, so a later global question over the same
/// text reuses them; the trace says how many). Every record and chunk is scored by encoder
/// cosine to the question, smoothed once over the record–chunk edges (s′ = α·s + (1−α)·mean of
/// the neighbours' s: the paper trains a GNN here; this is the parameter-free stand-in), and
/// the best `nodes` are kept, records first. The answer (`gor-answer.txt`) reads the records as
/// notes and the chunks behind them plus the best chunks as numbered passages: records are
/// never sources, so every citation is a chunk's `path:lines`, checked.
public struct GoRStrategy: AnsweringStrategy {
  public struct Configuration: Sendable, Hashable {
    /// Questions simulated to cover the text (Q; the paper uses 30).
    public var questions: Int
    /// Nodes (records and chunks) the answer reads.
    public var nodes: Int
    /// Weight of a node's own score against its neighbours' mean (α).
    public var smoothing: Double
    /// Tokens of a simulated question at most.
    public var questionTokens: Int
    /// Tokens of a simulated question's answer at most.
    public var answerTokens: Int

    public init(questions: Int = 12, nodes: Int = 8, smoothing: Double = 0.7, questionTokens: Int = 40, answerTokens: Int = 96) {
      self.questions = questions
      self.nodes = nodes
      self.smoothing = smoothing
      self.questionTokens = questionTokens
      self.answerTokens = answerTokens
    }
  }

  public var configuration: Configuration
  public var rag: RAGStrategy.Configuration
  public var kind: StrategyKind { .gor }

  public init(configuration: Configuration = .init(), rag: RAGStrategy.Configuration = .init()) {
    self.configuration = configuration
    self.rag = rag
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    let prompts = try StrategyPrompts(context)
    let memory: any RecordMemory = context.records ?? TransientRecords()
    let documents = try context.reader.documents()
    let scope = Set(documents.map(\.id))
    var chunks: [Passage] = []
    for document in documents {
      chunks += try log.timed(.read, "read \(document.path)", count: \.count) { try context.reader.chunks(of: document.id) }
    }
    let existing = try memory.records(linkedTo: scope)
    let strata = Self.strata(count: chunks.count, parts: configuration.questions)
    let covered = existing.reduce(into: Set<ChunkID>()) { $0.formUnion(Self.covers($1)) }
    let missing = strata.filter { stratum in !stratum.contains { covered.contains(chunks[$0].id) } }
    log.record(TraceStep(
      kind: .note, label: "records",
      detail: "\(existing.count) records on this text; \(strata.count - missing.count) of \(strata.count) strata covered, \(missing.count) to simulate"))

    for (n, stratum) in missing.enumerated() {
      try Task.checkCancellation()
      log.emit(.progress("gor: simulating question \(n + 1)/\(missing.count)"))
      let source = chunks[stratum.lowerBound + stratum.count / 2]
      let simulated = try await simulateQuestion(from: source, number: n + 1, prompts: prompts, log: log)
      if let record = try await record(simulated, source: source, number: n + 1, context: context, log: log) {
        try memory.save(record)
      }
    }
    let records = try memory.records(linkedTo: scope)
    let nodes = try score(question: question, records: records, chunks: chunks, context: context, log: log)
    return try await answer(question: question, nodes: nodes, chunks: chunks, prompts: prompts, log: log)
  }

  /// `count` items cut into at most `parts` contiguous, nearly equal strata.
  static func strata(count: Int, parts: Int) -> [Range<Int>] {
    let parts = max(1, min(parts, count))
    guard count > 0 else { return [] }
    return (0..<parts).map { i in (i * count / parts)..<((i + 1) * count / parts) }.filter { !$0.isEmpty }
  }

  /// The chunks a record covers: those it cites, and the chunk a simulated record came from.
  static func covers(_ record: Record) -> Set<ChunkID> {
    var out = Set(record.cited)
    if record.origin == .simulated, let first = record.shown.first { out.insert(first) }
    return out
  }

  // MARK: - Simulated questions

  /// One question `source` answers: the model's, or one made from its key words when the
  /// reply is not a question (the default model often writes a statement or copies the text).
  func simulateQuestion(from source: Passage, number: Int, prompts: StrategyPrompts, log: TraceLog) async throws -> String {
    let reply = try await prompts.generate(
      "simulate question \(number)", "gor-question.txt", ["text": source.text.trimmingCharacters(in: .whitespacesAndNewlines)],
      maxTokens: configuration.questionTokens, log: log)
    if let question = Self.question(in: reply.text) { return question }
    let made = Self.keywordQuestion(for: source.text)
    log.record(TraceStep(kind: .note, label: "question \(number) made from key words", detail: "the reply \u{201C}\(reply.text.prefix(60))\u{201D} is not a question"))
    return made
  }

  /// The first line of `reply` that reads as a question (ends at its first `?`, at least four
  /// words), without a `Question:` label.
  static func question(in reply: String) -> String? {
    for line in reply.split(whereSeparator: \.isNewline) {
      var text = line.trimmingCharacters(in: .whitespaces)
      for label in ["question:", "q:"] where text.lowercased().hasPrefix(label) {
        text = text.dropFirst(label.count).trimmingCharacters(in: .whitespaces)
      }
      guard let mark = text.firstIndex(of: "?") else { continue }
      let candidate = String(text[...mark])
      if TextAnalysis.words(candidate).count >= 4 { return candidate }
    }
    return nil
  }

  /// "What does the text say about A, B and C?" with the chunk's three most frequent content words.
  static func keywordQuestion(for text: String) -> String {
    var counts: [String: Int] = [:]
    var first: [String: Int] = [:]
    for (i, word) in TextAnalysis.contentWords(text).enumerated() where word.count > 3 && word.first?.isNumber != true {
      counts[word, default: 0] += 1
      if first[word] == nil { first[word] = i }
    }
    let top = counts.sorted { $0.value != $1.value ? $0.value > $1.value : first[$0.key]! < first[$1.key]! }.prefix(3).map(\.key)
    switch top.count {
    case 0: return "What does this part of the text say?"
    case 1: return "What does the text say about \(top[0])?"
    default: return "What does the text say about \(top.dropLast().joined(separator: ", ")) and \(top.last!)?"
    }
  }

  /// `rag`'s answer to a simulated question, from `source` first and then what retrieval adds,
  /// as a record; nil when it found nothing.
  func record(_ question: String, source: Passage, number: Int, context: AnsweringContext, log: TraceLog) async throws -> NewRecord? {
    var inner = context
    inner.parameters.maxTokens = configuration.answerTokens
    let strategy = RAGStrategy(configuration: rag)
    let budget = try strategy.passageBudget(question: question, context: inner)
    let retrieved = try log.timed(.search, "passages for question \(number)", detail: question, count: \.count) {
      try context.reader.passages(for: question, budget: budget) { try strategy.passageCost($0, number: $1, context: inner) }
    }
    let passages = [source] + retrieved.filter { !$0.chunkIDs.contains(source.id) }
    let answer = try await strategy.answer(
      question: question, passages: passages, context: inner, log: log.inner(), strategy: name, label: "answer question \(number)")
    guard let made = try NewRecord(answer: answer, origin: .simulated, embedder: context.embedder) else {
      log.record(TraceStep(kind: .note, label: "question \(number): no record", detail: "not found in its passages"))
      return nil
    }
    var record = made
    // The source chunk goes first among the edges: it is what the record covers.
    record.shown = [source.id] + record.shown.filter { $0 != source.id }
    return record
  }

  // MARK: - Scoring the graph

  /// A record or a chunk with its smoothed score.
  struct Node: Sendable {
    enum Item: Sendable {
      case record(Record)
      case chunk(Passage)
    }
    var item: Item
    var score: Double
  }

  /// The best `nodes` nodes, records first, each group best first.
  func score(question: String, records: [Record], chunks: [Passage], context: AnsweringContext, log: TraceLog) throws -> [Node] {
    let query = try context.embedder.embed(query: question)
    var vectors = try context.reader.vectors(of: chunks.map(\.id))
    let missing = chunks.filter { vectors[$0.id] == nil }
    if !missing.isEmpty {
      // An index built without vectors (`--no-embed`): embed this text's chunks now.
      let matrix = try context.embedder.embed(passages: missing.map(\.text))
      for (i, chunk) in missing.enumerated() { vectors[chunk.id] = Array(matrix[row: i]) }
    }
    var chunkScore: [ChunkID: Double] = [:]
    for chunk in chunks { chunkScore[chunk.id] = vectors[chunk.id].map { Similarity.cosine(query, $0) } ?? 0 }
    let recordScore = records.map { Similarity.cosine(query, $0.vector) }
    var linked: [ChunkID: [Int]] = [:]
    for (r, record) in records.enumerated() {
      for id in Set(record.shown) where chunkScore[id] != nil { linked[id, default: []].append(r) }
    }
    let alpha = configuration.smoothing
    func smoothed(_ own: Double, _ neighbours: [Double]) -> Double {
      neighbours.isEmpty ? own : alpha * own + (1 - alpha) * neighbours.reduce(0, +) / Double(neighbours.count)
    }
    var nodes: [Node] = records.enumerated().map { r, record in
      let neighbours = Set(record.shown).compactMap { chunkScore[$0] }
      return Node(item: .record(record), score: smoothed(recordScore[r], neighbours))
    }
    nodes += chunks.map { chunk in
      Node(item: .chunk(chunk), score: smoothed(chunkScore[chunk.id] ?? 0, (linked[chunk.id] ?? []).map { recordScore[$0] }))
    }
    let best = nodes.sorted { $0.score > $1.score }.prefix(configuration.nodes)
    let kept = best.filter { if case .record = $0.item { true } else { false } }
    let chunksKept = best.filter { if case .chunk = $0.item { true } else { false } }
    log.record(TraceStep(
      kind: .note, label: "graph",
      detail: String(format: "%d records, %d chunks scored (α %.1f); kept %d records and %d chunks", records.count, chunks.count, alpha,
        kept.count, chunksKept.count)))
    return kept + chunksKept
  }

  // MARK: - The answer

  /// Notes from the kept records, the numbered passages behind them and the kept chunks, then
  /// the answer.
  func answer(question: String, nodes: [Node], chunks: [Passage], prompts: StrategyPrompts, log: TraceLog) async throws -> Answer {
    let context = prompts.context
    let byID = Dictionary(chunks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    var records: [Record] = []
    var ranked: [Passage] = []
    for node in nodes {
      switch node.item {
      case .record(let record):
        records.append(record)
        let behind = record.cited.isEmpty ? Array(record.shown.prefix(1)) : record.cited
        ranked += behind.compactMap { byID[$0] }
      case .chunk(let chunk): ranked.append(chunk)
      }
    }
    ranked = CoCStrategy.unique(ranked)
    let window = min(context.model.contextLength, rag.contextTokens ?? .max)
    // Notes take at most a third of the window, best records first.
    var notes: [Record] = []
    var noteTokens = 0
    for record in records {
      let cost = try context.model.tokenCount(Self.note(record, numbers: [])) + 8
      if noteTokens + cost > window / 3 { break }
      noteTokens += cost
      notes.append(record)
    }
    let room = try prompts.room(
      "gor-answer.txt", ["question": question, "notes": notes.map { Self.note($0, numbers: []) }.joined(separator: "\n"), "passages": ""],
      answerTokens: context.parameters.maxTokens, limit: window) - 8 * notes.count
    let kept = try prompts.fitting(ranked, tokens: room)
    let ordered = rag.ordering.apply(kept)
    log.emit(.passages(used: ordered, dropped: Array(ranked.dropFirst(kept.count))))
    let number = Dictionary(ordered.enumerated().map { ($1.id, $0 + 1) }, uniquingKeysWith: { a, _ in a })
    let noteLines = notes.map { record in
      Self.note(record, numbers: (record.cited.isEmpty ? Array(record.shown.prefix(1)) : record.cited).compactMap { number[$0] })
    }
    let evidence = try EvidenceSelector(embedder: context.embedder, configuration: rag.evidence, model: context.model).select(question: question, passages: ordered)
    log.emit(.evidence(evidence))
    let draft = AnswerDraft(question: question, strategy: name, text: "", passages: ordered, dropped: Array(ranked.dropFirst(kept.count)), evidence: evidence)
    guard !ordered.isEmpty || !notes.isEmpty else { return try prompts.notFound(draft, support: rag.support, log: log) }
    return try await prompts.finalAnswer(
      "gor-answer.txt",
      ["question": question, "notes": noteLines.isEmpty ? "(none)" : noteLines.joined(separator: "\n"), "passages": try prompts.blocks(ordered)],
      draft: draft, support: rag.support, log: log)
  }

  /// A record as one note line: `- question answer (see [2], [5])`.
  static func note(_ record: Record, numbers: [Int]) -> String {
    let answer = record.answer.replacingOccurrences(of: "\n", with: " ")
    let see = numbers.isEmpty ? "" : " (see " + numbers.sorted().map { "[\($0)]" }.joined(separator: ", ") + ")"
    return "- \(record.question) \(answer)\(see)"
  }
}

/// Records kept for one answer only, when the caller keeps none (`--no-record`, or a
/// library user without an index to write to).
final class TransientRecords: RecordMemory {
  private let state = Mutex<[Record]>([])

  func records(linkedTo documents: Set<DocumentID>?) throws -> [Record] { state.withLock { $0 } }

  func save(_ record: NewRecord) throws -> RecordID {
    state.withLock { records in
      let id = RecordID(Int64(records.count + 1))
      records.append(Record(
        id: id, question: record.question, answer: record.answer, strategy: record.strategy, model: record.model,
        origin: record.origin, created: Date(), cited: record.cited, shown: record.shown, vector: record.vector))
      return id
    }
  }
}
