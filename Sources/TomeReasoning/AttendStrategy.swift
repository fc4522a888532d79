import Foundation
public import TomeCore

/// InfiniRetri with sink correction (Ye, Wang, Wang 2025, arXiv 2502.12962;
/// METHODS-INDEX-KV.md §4 and §9): the model's own attention from the question picks the
/// sentences worth carrying while it reads the text segment by segment.
///
/// The text is the reader's one document (`--document`) or what a broad search finds
/// (`ReadingPlan`), cut into segments of `segmentTokens`. The carried context starts empty.
/// For each segment, one forward pass reads [carried sentences + segment] followed by the
/// question (the question must come after the context), capturing the attention rows at
/// `layer`. Each context token is scored by its sink-corrected attention
/// (`sinkCorrected(questionRows:referenceRows:context:prior:)`), a sentence by its best token,
/// and, with `.rankSum`, that rank is added to the sentence encoder's rank (§9). The best
/// whole sentences (`SentenceSplitter`, with their lines) within `carriedTokens` are carried,
/// in document order, into the next pass. After the last segment the carried sentences,
/// numbered `[n]` with their exact spans, are the passages of `attend-answer.txt`.
///
/// **The reference for sink correction.** A small model's question rows pile onto "." and
/// newline tokens and onto the first positions (attention sinks), whatever the question. We
/// divide the question's attention to a token by the attention the *context's own positions
/// after it* give it in the same pass (every context row is captured; rows are put in units of
/// uniform attention first, since a row over r positions spreads the same mass thinner, and the
/// mean is shrunk towards uniform by `prior` pseudo-rows, so the last tokens of the context,
/// which few rows see, are not divided by noise). Chosen over a per-token-id running baseline
/// because it costs no extra pass (the rows are computed anyway), needs no state across
/// questions or segments, works from the first segment on, and corrects positional sinks
/// (the first tokens) as well as token-type ones.
///
/// **The layer sweep.** SQuAD dev half, 100 questions (every stride-th), each with the 3
/// paragraphs of its article closest to it by the encoder (gold sentence present for 95);
/// evidence-sentence top-1 (the best sentence holds a gold answer); a sentence scores its best
/// token; prior 4; SmolLM2-135M-Instruct Q4_1 (30 layers), AMD EPYC, 2 shared cores, 1,114 s:
///
///     encoder alone (MiniLM cosine): 71/100
///     layer  raw  sink-corrected  rank-sum (encoder + layer)
///       8     10        46              58
///      12      4         4              29
///      15     16        22              43
///      18     23        39              56
///      21     36        29              53
///      24     29        20              44
///      27      7        10              29
///      29      5         8              27   (last layer; raw = InfiniRetri's signal, no box filter)
///
/// Reproduce: `TOME_ATTEND_SWEEP=1 TOME_ATTEND_SWEEP_N=100 OPENBLAS_CORETYPE=Cooperlake
/// swift test -c release -Xswiftc -enable-testing --skip-build --filter AttendSweep`
/// (Tests/TomeReasoningTests/AttendSweep.swift). Sink correction lifts every layer but 21–24
/// over raw attention and layer 8 is best, so the default is layer 8 with rank-sum; but unlike
/// §9 (107/160 vs 93/160), rank-sum here stays below the encoder alone, so the attention signal
/// (as defined here) still costs accuracy on short SQuAD contexts.
///
/// Needs the in-process model: over an HTTP endpoint it throws
/// `ReasoningError.attentionUnavailable`.
public struct AttendStrategy: AnsweringStrategy {
  /// How the sentences of a pass are ranked.
  public enum Ranking: String, Sendable, Hashable, Codable, CaseIterable {
    /// Sink-corrected attention only.
    case attention
    /// Rank of the sink-corrected attention plus rank of the encoder's cosine (§9).
    case rankSum
  }

  public struct Configuration: Sendable, Hashable {
    /// Model tokens per segment (InfiniRetri's chunk size).
    public var segmentTokens: Int
    /// Model tokens of the sentences carried from one pass to the next (and answered from).
    public var carriedTokens: Int
    /// The layer whose attention is read (0-based). The default, 8, is the best of the sweep
    /// in the type's documentation.
    public var layer: Int
    public var ranking: Ranking
    /// Pseudo-rows at uniform attention in each token's reference mean.
    public var prior: Double
    /// Segments read at most (nil: all).
    public var rounds: Int?
    /// Hits of the broad search when the reader sees more than one document.
    public var searchDepth: Int

    public init(
      segmentTokens: Int = 1_024, carriedTokens: Int = 300, layer: Int = 8, ranking: Ranking = .rankSum,
      prior: Double = 4, rounds: Int? = nil, searchDepth: Int = 48
    ) {
      self.segmentTokens = segmentTokens
      self.carriedTokens = carriedTokens
      self.layer = layer
      self.ranking = ranking
      self.prior = prior
      self.rounds = rounds
      self.searchDepth = searchDepth
    }
  }

  public var configuration: Configuration
  public var rag: RAGStrategy.Configuration
  public var kind: StrategyKind { .attend }

  public init(configuration: Configuration = .init(), rag: RAGStrategy.Configuration = .init()) {
    self.configuration = configuration
    self.rag = rag
  }

  /// A sentence of the text with where it is.
  struct Sentence: Hashable {
    var text: String
    var span: SourceSpan
    var chunkID: ChunkID

    /// The sentences of `passage`, each with its own lines.
    static func of(_ passage: Passage) -> [Sentence] {
      SentenceSplitter.sentences(in: passage.text, firstLine: passage.span.firstLine).map {
        var span = passage.span
        span.firstLine = $0.firstLine
        span.lastLine = $0.lastLine
        span.byteRange = 0..<0
        return Sentence(text: $0.text, span: span, chunkID: passage.id)
      }
    }
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    guard let probe = try AttentionProbe.make(context.model) else {
      throw ReasoningError.attentionUnavailable(model: context.model.identifier)
    }
    guard (0..<probe.layerCount).contains(configuration.layer) else {
      throw ReasoningError.attentionLayerOutOfRange(layer: configuration.layer, layers: probe.layerCount)
    }
    let prompts = try StrategyPrompts(context)
    let questionTokens = probe.tokens("\n\nQuestion: " + question).count
    let room = context.model.contextLength - questionTokens - configuration.carriedTokens - 32
    guard configuration.segmentTokens >= 64, configuration.segmentTokens <= room else {
      throw ReasoningError.windowTooSmall(strategy: name, needed: configuration.segmentTokens, available: room)
    }
    let plan = try ReadingPlan.make(
      question: question, context: context, segmentTokens: configuration.segmentTokens,
      searchDepth: configuration.searchDepth, log: log)
    let rounds = min(plan.segments.count, configuration.rounds ?? .max)
    log.record(TraceStep(
      kind: .note, label: "attend",
      detail: "\(plan.description): \(plan.tokens) tokens in \(plan.segments.count) segments of up to \(configuration.segmentTokens); reading \(rounds) at layer \(configuration.layer), \(configuration.ranking.rawValue)"))

    let questionVector = configuration.ranking == .rankSum ? try context.embedder.embed(query: question) : nil
    var cosines: [Sentence: Double] = [:]
    var carried: [Sentence] = []
    var carriedScores: [Double] = []
    var read = 0
    for (i, segment) in plan.segments.prefix(rounds).enumerated() {
      try Task.checkCancellation()
      let start = ContinuousClock.now
      let fromSegment = segment.flatMap(Sentence.of)
      let candidates = carried + fromSegment
      let pieces = Self.pieces(candidates, tokenize: probe.tokens)
      let reading = try probe.read(pieces: pieces, question: question, layer: configuration.layer)
      let tokenScores = Self.sinkCorrected(
        questionRows: reading.questionRows, referenceRows: reading.referenceRows, context: reading.context,
        prior: configuration.prior)
      var scores = Self.sentenceScores(tokenScores: tokenScores, owners: reading.owners, count: candidates.count)
      if let questionVector {
        let fresh = candidates.filter { cosines[$0] == nil }
        if !fresh.isEmpty {
          let matrix = try context.embedder.embed(passages: fresh.map(\.text))
          for (row, sentence) in fresh.enumerated() { cosines[sentence] = Similarity.cosine(questionVector, matrix[row: row]) }
        }
        scores = Self.rankSum(scores, candidates.map { cosines[$0] ?? 0 })
      }
      let kept = Self.keep(scores: scores, costs: pieces.map(\.count), budget: configuration.carriedTokens)
      carried = kept.map { candidates[$0] }
      carriedScores = kept.map { scores[$0] }
      read += pieces.suffix(fromSegment.count).reduce(0) { $0 + $1.count }
      let seconds = (ContinuousClock.now - start).seconds
      log.record(TraceStep(
        kind: .modelCall, label: "segment \(i + 1)",
        detail: "read \(reading.tokens) tokens, kept \(carried.count) sentences (\(kept.reduce(0) { $0 + pieces[$1].count }) tokens)",
        promptTokens: reading.tokens, answerTokens: 0, seconds: seconds))
      log.emit(.progress("attend: segment \(i + 1)/\(rounds), \(read) of \(plan.tokens) tokens read, \(carried.count) sentences kept"))
    }
    return try await answer(question: question, carried: carried, scores: carriedScores, prompts: prompts, log: log)
  }

  /// The final call: the question from the carried sentences, numbered `[n]` in document order.
  func answer(question: String, carried: [Sentence], scores: [Double], prompts: StrategyPrompts, log: TraceLog) async throws -> Answer {
    let passages = carried.enumerated().map { i, s in
      Passage(id: s.chunkID, text: s.text, span: s.span, score: scores[i])
    }
    // Evidence best first; its score is the sentence's place in the ranking, 1 for the best.
    let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    let evidence = order.enumerated().map { rank, i in
      Evidence(
        text: carried[i].text, path: carried[i].span.path, firstLine: carried[i].span.firstLine,
        lastLine: carried[i].span.lastLine, page: carried[i].span.page,
        score: 1 - Double(rank) / Double(max(order.count, 1)), chunkID: carried[i].chunkID)
    }
    log.emit(.evidence(evidence))
    log.emit(.passages(used: passages, dropped: []))
    let draft = AnswerDraft(question: question, strategy: name, text: "", passages: passages, evidence: evidence)
    guard !passages.isEmpty else {
      return try prompts.notFound(draft, detail: "no sentence was carried; the model was not called", support: rag.support, log: log)
    }
    return try await prompts.finalAnswer(
      "attend-answer.txt", ["question": question, "passages": try prompts.blocks(passages)], draft: draft, support: rag.support,
      log: log, filter: rag.filter)
  }

  /// Each sentence's tokens as the pass reads it: a blank line before a sentence from another
  /// chunk than the one before it, a space before the next sentence of the same chunk.
  static func pieces(_ sentences: [Sentence], tokenize: (String) -> [Int]) -> [[Int]] {
    sentences.enumerated().map { i, s in
      let separator = i == 0 ? "" : sentences[i - 1].chunkID == s.chunkID ? " " : "\n\n"
      return tokenize(separator + s.text)
    }
  }

  /// Sink-corrected attention of each context position.
  ///
  /// Every row is first put in units of uniform attention (a row over `n` positions summing to
  /// `H` heads gives a position `H / n` on average). A position's score is the question rows'
  /// mean attention to it divided by its reference: the mean attention the context rows after
  /// it give it, shrunk towards 1 (uniform) by `prior` pseudo-rows.
  /// - Parameters:
  ///   - questionRows: attention rows (summed over heads) of the question's positions; each
  ///     reaches at least `context.upperBound`.
  ///   - referenceRows: rows of other positions by position (the context's own); a row counts
  ///     for the context positions before its own.
  ///   - context: the positions scored.
  ///   - prior: pseudo-rows at uniform attention in each reference mean (0: none).
  /// - Returns: one score per position of `context`, in order.
  /// - Complexity: O((q + r) · n) for q question rows, r reference rows, n context positions.
  static func sinkCorrected(questionRows: [[Float]], referenceRows: [Int: [Float]], context: Range<Int>, prior: Double) -> [Double] {
    let attention = questionAttention(questionRows: questionRows, context: context)
    var sum = [Double](repeating: 0, count: context.count)
    var count = [Double](repeating: 0, count: context.count)
    for (position, row) in referenceRows {
      let unit = uniformUnit(row)
      guard unit > 0 else { continue }
      let end = min(position, context.upperBound, row.count)
      guard end > context.lowerBound else { continue }
      for c in context.lowerBound..<end {
        sum[c - context.lowerBound] += Double(row[c]) / unit
        count[c - context.lowerBound] += 1
      }
    }
    return attention.indices.map { i in
      // No row and no prior: nothing to correct by, so uniform.
      let reference = count[i] + prior > 0 ? (sum[i] + prior) / (count[i] + prior) : 1
      return reference > 0 ? attention[i] / reference : 0
    }
  }

  /// The question rows' mean attention to each context position, in units of uniform
  /// attention (the uncorrected signal, InfiniRetri's without its box filter).
  static func questionAttention(questionRows: [[Float]], context: Range<Int>) -> [Double] {
    var attention = [Double](repeating: 0, count: context.count)
    for row in questionRows {
      let unit = uniformUnit(row)
      guard unit > 0 else { continue }
      for c in context where c < row.count { attention[c - context.lowerBound] += Double(row[c]) / unit }
    }
    return attention.map { $0 / Double(max(questionRows.count, 1)) }
  }

  /// Mean attention per position of `row` (heads / positions).
  private static func uniformUnit(_ row: [Float]) -> Double {
    row.isEmpty ? 0 : row.reduce(0.0) { $0 + Double($1) } / Double(row.count)
  }

  /// Each sentence's score: the best score among its tokens (`owners[i]` is token i's
  /// sentence); a sentence without tokens scores −∞.
  static func sentenceScores(tokenScores: [Double], owners: [Int], count: Int) -> [Double] {
    precondition(tokenScores.count == owners.count, "one owner per token")
    var best = [Double](repeating: -.infinity, count: count)
    for (score, owner) in zip(tokenScores, owners) { best[owner] = max(best[owner], score) }
    return best
  }

  /// Rank-sum fusion: minus the sum of each item's ranks (0 = best, ties share the mean rank)
  /// under `a` and under `b`, so higher is better; ties are broken by `a` (scaled far below a
  /// rank step).
  static func rankSum(_ a: [Double], _ b: [Double]) -> [Double] {
    precondition(a.count == b.count, "one score per item in both lists")
    let (ra, rb) = (ranks(a), ranks(b))
    return a.indices.map { -(ra[$0] + rb[$0]) - 1e-3 * ra[$0] / Double(max(a.count, 1)) }
  }

  /// Ranks of `scores`, best (highest) first from 0; ties get the mean of their ranks.
  static func ranks(_ scores: [Double]) -> [Double] {
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var ranks = [Double](repeating: 0, count: scores.count)
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
      for k in i...j { ranks[order[k]] = Double(i + j) / 2 }
      i = j + 1
    }
    return ranks
  }

  /// Indices of the best-scored items whose costs fit `budget` together (an item that does not
  /// fit is skipped, a cheaper one after it may still fit), in their original order.
  static func keep(scores: [Double], costs: [Int], budget: Int) -> [Int] {
    precondition(scores.count == costs.count, "one cost per score")
    var used = 0
    var kept: [Int] = []
    for i in scores.indices.sorted(by: { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }) {
      guard scores[i] > -.infinity, used + costs[i] <= budget else { continue }
      used += costs[i]
      kept.append(i)
    }
    return kept.sorted()
  }
}
