import TomeCore

/// A finished answer as JSON: the one shape `tome ask --json` prints, every `tome batch`
/// output line holds (with the batch's own fields beside it), `POST /v1/ask` returns and a
/// chat turn stores.
///
/// Why one record: the four outputs had drifted into four shapes (`firstLine` in one,
/// `lines: [first, last]` in another, `tokens.in` in a third), so a script written against one
/// broke on the others. The keys are spelled out in each `CodingKeys` and are the contract;
/// the Swift names may change, the keys may not.
///
/// Every key is always written: an absent value (no model called, a marker that names no
/// passage, a span without a page) is `null`, never a missing key, so a reader sees the whole
/// shape in any record. Trace steps follow the same rule (`TraceStep`).
///
/// Passages carry where they are, not their text: the text is in the index (`chunk_ids`) and
/// in the files, and a dozen passages of text would make every record tens of kilobytes.
///
/// Decoding requires `question` and `answer` and reads any other missing key as empty, zero,
/// false or null, so trimmed result lines (`tome batch compare` fixtures) still read. Requiring
/// `answer` is also what tells a record from the JSON of `Answer` that older chat turns stored
/// (it has `text` instead).
public struct AnswerRecord: Sendable, Hashable, Codable {
  /// One of the model's own `[n]` markers, resolved to the passage it names and checked.
  public struct Citation: Sendable, Hashable, Codable {
    /// The `n` of `[n]`.
    public var n: Int
    /// The passage's place; null when `n` names no passage.
    public var path: String?
    public var firstLine: Int?
    public var lastLine: Int?
    public var page: Int?
    /// The marker names a passage and every quotation attributed to it occurs there.
    public var verified: Bool
    /// Why it is not verified; null when it is.
    public var problem: String?
    /// The cited passage's chunks (empty for an unknown marker).
    public var chunkIDs: [Int64]

    enum CodingKeys: String, CodingKey {
      case n, path, page, verified, problem
      case firstLine = "first_line"
      case lastLine = "last_line"
      case chunkIDs = "chunk_ids"
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(n, forKey: .n)
      try c.encode(path, forKey: .path)
      try c.encode(firstLine, forKey: .firstLine)
      try c.encode(lastLine, forKey: .lastLine)
      try c.encode(page, forKey: .page)
      try c.encode(verified, forKey: .verified)
      try c.encode(problem, forKey: .problem)
      try c.encode(chunkIDs, forKey: .chunkIDs)
    }
  }

  /// A sentence without a marker, attributed by Tome to the source lines that support it
  /// (kept apart from `citations`: Tome's reading, not the model's claim).
  public struct Attribution: Sendable, Hashable, Codable {
    public var sentence: String
    public var path: String
    public var firstLine: Int
    public var lastLine: Int
    public var page: Int?
    public var chunkID: Int64
    /// Fraction of the sentence's content words found in the source sentence.
    public var overlap: Double
    /// Encoder cosine between the answer sentence and the source sentence.
    public var similarity: Double

    enum CodingKeys: String, CodingKey {
      case sentence, path, page, overlap, similarity
      case firstLine = "first_line"
      case lastLine = "last_line"
      case chunkID = "chunk_id"
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(sentence, forKey: .sentence)
      try c.encode(path, forKey: .path)
      try c.encode(firstLine, forKey: .firstLine)
      try c.encode(lastLine, forKey: .lastLine)
      try c.encode(page, forKey: .page)
      try c.encode(chunkID, forKey: .chunkID)
      try c.encode(overlap, forKey: .overlap)
      try c.encode(similarity, forKey: .similarity)
    }
  }

  /// A source sentence close in meaning to the question, verbatim.
  public struct Evidence: Sendable, Hashable, Codable {
    public var text: String
    public var path: String
    public var firstLine: Int
    public var lastLine: Int
    public var page: Int?
    /// Cosine similarity to the question plus the term-overlap bonus.
    public var score: Double
    public var chunkID: Int64

    enum CodingKeys: String, CodingKey {
      case text, path, page, score
      case firstLine = "first_line"
      case lastLine = "last_line"
      case chunkID = "chunk_id"
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(text, forKey: .text)
      try c.encode(path, forKey: .path)
      try c.encode(firstLine, forKey: .firstLine)
      try c.encode(lastLine, forKey: .lastLine)
      try c.encode(page, forKey: .page)
      try c.encode(score, forKey: .score)
      try c.encode(chunkID, forKey: .chunkID)
    }
  }

  /// A quotation in the answer and whether the passages it was checked against hold it.
  public struct Quote: Sendable, Hashable, Codable {
    public var text: String
    /// Passage numbers (the `n` of `passages`).
    public var checkedAgainst: [Int]
    public var verified: Bool

    enum CodingKeys: String, CodingKey {
      case text, verified
      case checkedAgainst = "checked_against"
    }
  }

  /// A passage the model was shown, by its prompt number.
  public struct Passage: Sendable, Hashable, Codable {
    /// The number `[n]` refers to (1-based, prompt order).
    public var n: Int
    public var path: String
    public var firstLine: Int
    public var lastLine: Int
    public var page: Int?
    /// The retrieved chunk first, then the neighbours merged into it.
    public var chunkIDs: [Int64]

    enum CodingKeys: String, CodingKey {
      case n, path, page
      case firstLine = "first_line"
      case lastLine = "last_line"
      case chunkIDs = "chunk_ids"
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(n, forKey: .n)
      try c.encode(path, forKey: .path)
      try c.encode(firstLine, forKey: .firstLine)
      try c.encode(lastLine, forKey: .lastLine)
      try c.encode(page, forKey: .page)
      try c.encode(chunkIDs, forKey: .chunkIDs)
    }
  }

  /// Model tokens summed over the answer's model calls.
  public struct Tokens: Sendable, Hashable, Codable {
    public var prompt: Int
    public var answer: Int
    /// Model calls made (generations and scored decisions).
    public var calls: Int

    enum CodingKeys: String, CodingKey {
      case prompt, answer, calls
    }
  }

  /// Seconds.
  public struct Timings: Sendable, Hashable, Codable {
    public var retrieval: Double
    public var evidence: Double
    /// To the model's first piece of text; null when the model was not called.
    public var firstToken: Double?
    /// From the start of retrieval to the end of the answer.
    public var total: Double

    enum CodingKeys: String, CodingKey {
      case retrieval, evidence, total
      case firstToken = "first_token"
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(retrieval, forKey: .retrieval)
      try c.encode(evidence, forKey: .evidence)
      try c.encode(firstToken, forKey: .firstToken)
      try c.encode(total, forKey: .total)
    }
  }

  public var question: String
  /// The strategy that answered (`rag`, `coc`, …; `auto` records the route, `auto→coc`).
  public var strategy: String
  /// The model's identifier; null when no model was called.
  public var model: String?
  /// The answer's text as the model wrote it, `[n]` markers included.
  public var answer: String
  /// The answer is "not found in the collection" (by the model, or before calling it).
  public var notFound: Bool
  /// The answer's content is not found in the sources.
  public var unsupported: Bool
  /// Content words of the answer found in no source.
  public var unsupportedWords: [String]
  /// Sentences of the answer that no passage line supports.
  public var unsupportedSentences: [String]
  public var citations: [Citation]
  public var attributions: [Attribution]
  public var evidence: [Evidence]
  public var quotes: [Quote]
  /// The passages shown to the model, in prompt order.
  public var passages: [Passage]
  /// Chunks retrieved but left out for lack of room, best first. The retrieved chunks are
  /// these and the passages' `chunk_ids`.
  public var droppedChunkIDs: [Int64]
  public var tokens: Tokens
  public var timings: Timings
  /// What the strategy did, step by step.
  public var trace: [TraceStep]

  /// `package` so `BatchResult` can tell the record's keys from the input's extra fields.
  package enum CodingKeys: String, CodingKey, CaseIterable {
    case question, strategy, model, answer, unsupported, citations, attributions, evidence, quotes, passages, tokens, timings, trace
    case notFound = "not_found"
    case unsupportedWords = "unsupported_words"
    case unsupportedSentences = "unsupported_sentences"
    case droppedChunkIDs = "dropped_chunk_ids"
  }

  /// The record of `answer`.
  public init(_ answer: Answer) {
    question = answer.question
    strategy = answer.strategy
    model = answer.model
    self.answer = answer.text
    notFound = answer.notFound
    unsupported = answer.unsupported
    unsupportedWords = answer.unsupportedWords
    unsupportedSentences = answer.unsupportedSentences
    citations = answer.citations.map {
      Citation(
        n: $0.number, path: $0.path, firstLine: $0.firstLine, lastLine: $0.lastLine, page: $0.page, verified: $0.verified,
        problem: $0.problem, chunkIDs: $0.chunkIDs.map(\.rawValue))
    }
    attributions = answer.attributions.map {
      Attribution(
        sentence: $0.sentence, path: $0.path, firstLine: $0.firstLine, lastLine: $0.lastLine, page: $0.page,
        chunkID: $0.chunkID.rawValue, overlap: $0.overlap, similarity: $0.similarity)
    }
    evidence = answer.evidence.map {
      Evidence(
        text: $0.text, path: $0.path, firstLine: $0.firstLine, lastLine: $0.lastLine, page: $0.page, score: $0.score,
        chunkID: $0.chunkID.rawValue)
    }
    quotes = answer.quotes.map { Quote(text: $0.text, checkedAgainst: $0.checkedAgainst, verified: $0.verified) }
    passages = answer.passages.enumerated().map { i, p in
      Passage(
        n: i + 1, path: p.span.path, firstLine: p.span.firstLine, lastLine: p.span.lastLine, page: p.span.page,
        chunkIDs: p.chunkIDs.map(\.rawValue))
    }
    droppedChunkIDs = answer.dropped.flatMap(\.chunkIDs).map(\.rawValue)
    tokens = Tokens(prompt: answer.tokens.prompt, answer: answer.tokens.answer, calls: answer.tokens.calls)
    timings = Timings(
      retrieval: answer.timings.retrieval, evidence: answer.timings.evidence, firstToken: answer.timings.timeToFirstToken,
      total: answer.timings.total)
    trace = answer.trace
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    question = try c.decode(String.self, forKey: .question)
    answer = try c.decode(String.self, forKey: .answer)
    strategy = try c.decodeIfPresent(String.self, forKey: .strategy) ?? ""
    model = try c.decodeIfPresent(String.self, forKey: .model)
    notFound = try c.decodeIfPresent(Bool.self, forKey: .notFound) ?? false
    unsupported = try c.decodeIfPresent(Bool.self, forKey: .unsupported) ?? false
    unsupportedWords = try c.decodeIfPresent([String].self, forKey: .unsupportedWords) ?? []
    unsupportedSentences = try c.decodeIfPresent([String].self, forKey: .unsupportedSentences) ?? []
    citations = try c.decodeIfPresent([Citation].self, forKey: .citations) ?? []
    attributions = try c.decodeIfPresent([Attribution].self, forKey: .attributions) ?? []
    evidence = try c.decodeIfPresent([Evidence].self, forKey: .evidence) ?? []
    quotes = try c.decodeIfPresent([Quote].self, forKey: .quotes) ?? []
    passages = try c.decodeIfPresent([Passage].self, forKey: .passages) ?? []
    droppedChunkIDs = try c.decodeIfPresent([Int64].self, forKey: .droppedChunkIDs) ?? []
    tokens = try c.decodeIfPresent(Tokens.self, forKey: .tokens) ?? Tokens(prompt: 0, answer: 0, calls: 0)
    timings = try c.decodeIfPresent(Timings.self, forKey: .timings) ?? Timings(retrieval: 0, evidence: 0, firstToken: nil, total: 0)
    trace = try c.decodeIfPresent([TraceStep].self, forKey: .trace) ?? []
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(question, forKey: .question)
    try c.encode(strategy, forKey: .strategy)
    try c.encode(model, forKey: .model)
    try c.encode(answer, forKey: .answer)
    try c.encode(notFound, forKey: .notFound)
    try c.encode(unsupported, forKey: .unsupported)
    try c.encode(unsupportedWords, forKey: .unsupportedWords)
    try c.encode(unsupportedSentences, forKey: .unsupportedSentences)
    try c.encode(citations, forKey: .citations)
    try c.encode(attributions, forKey: .attributions)
    try c.encode(evidence, forKey: .evidence)
    try c.encode(quotes, forKey: .quotes)
    try c.encode(passages, forKey: .passages)
    try c.encode(droppedChunkIDs, forKey: .droppedChunkIDs)
    try c.encode(tokens, forKey: .tokens)
    try c.encode(timings, forKey: .timings)
    try c.encode(trace, forKey: .trace)
  }
}
