public import Foundation
import TomeCore
public import TomeReasoning

/// One line of `tome batch` output: the answer, its citations and evidence, the retrieved
/// chunks, tokens, timings, scores against gold, and the input's extra fields unchanged.
///
/// Keys are snake_case like the input format's (`gold_citations`). Extra input fields that
/// collide with an output key are left out.
public struct BatchResult: Sendable, Hashable, Codable {
  public struct CitationLine: Sendable, Hashable, Codable {
    public var n: Int
    public var path: String?
    /// `[first, last]`.
    public var lines: [Int]?
    public var page: Int?
    public var verified: Bool
    public var problem: String?

    public init(n: Int, path: String?, lines: [Int]?, page: Int?, verified: Bool, problem: String?) {
      self.n = n
      self.path = path
      self.lines = lines
      self.page = page
      self.verified = verified
      self.problem = problem
    }
  }

  public struct EvidenceLine: Sendable, Hashable, Codable {
    public var text: String
    public var path: String
    public var lines: [Int]
    public var page: Int?
    public var score: Double
  }

  public struct Tokens: Sendable, Hashable, Codable {
    public var `in`: Int
    public var out: Int
  }

  public struct Timings: Sendable, Hashable, Codable {
    public var retrieval: Double
    public var evidence: Double
    public var firstToken: Double?
    public var total: Double

    enum CodingKeys: String, CodingKey {
      case retrieval, evidence, total
      case firstToken = "first_token"
    }
  }

  /// Scores against gold; a score is absent when it does not apply (no gold, no choices,
  /// no gold citations).
  public struct Scores: Sendable, Hashable, Codable {
    public var em: Double?
    public var f1: Double?
    public var accuracy: Double?
    public var rouge1: Double?
    public var rouge2: Double?
    public var rougeL: Double?
    public var citationPrecision: Double?
    public var citationRecall: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
      case em, f1, accuracy, rouge1, rouge2
      case rougeL = "rouge_l"
      case citationPrecision = "citation_precision"
      case citationRecall = "citation_recall"
    }

    /// Right by exact match or, for multiple choice, by accuracy; nil when neither applies.
    public var correct: Bool? {
      if let accuracy { return accuracy >= 1 }
      if let em { return em >= 1 }
      return nil
    }
  }

  public var id: JSONValue
  public var question: String
  public var answer: String
  public var strategy: String
  public var model: String?
  public var notFound: Bool
  public var citations: [CitationLine]
  public var evidence: [EvidenceLine]
  public var retrievedChunkIDs: [Int64]
  public var tokens: Tokens
  public var timings: Timings
  public var gold: [String]?
  public var choices: [String]?
  public var goldCitations: [GoldCitation]?
  public var scores: Scores
  /// Fields of the input line Tome does not know, unchanged.
  public var extra: [String: JSONValue]

  enum CodingKeys: String, CodingKey, CaseIterable {
    case id, question, answer, strategy, model, citations, evidence, tokens, timings, gold, choices, scores
    case notFound = "not_found"
    case retrievedChunkIDs = "retrieved_chunk_ids"
    case goldCitations = "gold_citations"
  }

  struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public init(from decoder: any Swift.Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(JSONValue.self, forKey: .id)
    question = try c.decode(String.self, forKey: .question)
    answer = try c.decodeIfPresent(String.self, forKey: .answer) ?? ""
    strategy = try c.decodeIfPresent(String.self, forKey: .strategy) ?? ""
    model = try c.decodeIfPresent(String.self, forKey: .model)
    notFound = try c.decodeIfPresent(Bool.self, forKey: .notFound) ?? false
    citations = try c.decodeIfPresent([CitationLine].self, forKey: .citations) ?? []
    evidence = try c.decodeIfPresent([EvidenceLine].self, forKey: .evidence) ?? []
    retrievedChunkIDs = try c.decodeIfPresent([Int64].self, forKey: .retrievedChunkIDs) ?? []
    tokens = try c.decodeIfPresent(Tokens.self, forKey: .tokens) ?? Tokens(in: 0, out: 0)
    timings = try c.decodeIfPresent(Timings.self, forKey: .timings) ?? Timings(retrieval: 0, evidence: 0, total: 0)
    gold = try c.decodeIfPresent([String].self, forKey: .gold)
    choices = try c.decodeIfPresent([String].self, forKey: .choices)
    goldCitations = try c.decodeIfPresent([GoldCitation].self, forKey: .goldCitations)
    scores = try c.decodeIfPresent(Scores.self, forKey: .scores) ?? Scores()
    let known = Set(CodingKeys.allCases.map(\.stringValue))
    let all = try decoder.container(keyedBy: AnyKey.self)
    var extra: [String: JSONValue] = [:]
    for key in all.allKeys where !known.contains(key.stringValue) {
      extra[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
    }
    self.extra = extra
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode(question, forKey: .question)
    try c.encode(answer, forKey: .answer)
    try c.encode(strategy, forKey: .strategy)
    try c.encodeIfPresent(model, forKey: .model)
    try c.encode(notFound, forKey: .notFound)
    try c.encode(citations, forKey: .citations)
    try c.encode(evidence, forKey: .evidence)
    try c.encode(retrievedChunkIDs, forKey: .retrievedChunkIDs)
    try c.encode(tokens, forKey: .tokens)
    try c.encode(timings, forKey: .timings)
    try c.encodeIfPresent(gold, forKey: .gold)
    try c.encodeIfPresent(choices, forKey: .choices)
    try c.encodeIfPresent(goldCitations, forKey: .goldCitations)
    try c.encode(scores, forKey: .scores)
    let known = Set(CodingKeys.allCases.map(\.stringValue))
    var all = encoder.container(keyedBy: AnyKey.self)
    for (key, value) in extra where !known.contains(key) {
      try all.encode(value, forKey: AnyKey(stringValue: key))
    }
  }

  /// The result for `question` answered by `answer`, scored against its gold.
  public init(question q: BatchQuestion, answer a: Answer) {
    id = q.id
    question = q.question
    answer = a.text
    strategy = a.strategy
    model = a.model
    notFound = a.notFound
    citations = a.citations.map {
      let lines: [Int]? = if let f = $0.firstLine, let l = $0.lastLine { [f, l] } else { nil }
      return CitationLine(n: $0.number, path: $0.path, lines: lines, page: $0.page, verified: $0.verified, problem: $0.problem)
    }
    evidence = a.evidence.map { EvidenceLine(text: $0.text, path: $0.path, lines: [$0.firstLine, $0.lastLine], page: $0.page, score: $0.score) }
    retrievedChunkIDs = (a.passages + a.dropped).flatMap(\.chunkIDs).map(\.rawValue)
    tokens = Tokens(in: a.tokens.prompt, out: a.tokens.answer)
    timings = Timings(retrieval: a.timings.retrieval, evidence: a.timings.evidence, firstToken: a.timings.timeToFirstToken, total: a.timings.total)
    gold = q.gold
    choices = q.choices
    goldCitations = q.goldCitations
    extra = q.extra
    scores = Self.score(answer: a.text, citations: citations, question: q)
  }

  /// Scores of an answer text and its citations against the question's gold. Citation
  /// markers are removed from the text before it is compared.
  public static func score(answer: String, citations: [CitationLine], question q: BatchQuestion) -> Scores {
    var scores = Scores()
    let text = AnswerScoring.strippingCitationMarkers(answer)
    if let gold = q.gold, !gold.isEmpty {
      if let choices = q.choices, !choices.isEmpty {
        scores.accuracy = AnswerScoring.multipleChoiceAccuracy(text, choices: choices, gold: gold)
      } else {
        scores.em = AnswerScoring.exactMatch(text, gold: gold)
        scores.f1 = AnswerScoring.f1(text, gold: gold)
        let rouge = AnswerScoring.rouge(text, gold: gold)
        scores.rouge1 = rouge.rouge1
        scores.rouge2 = rouge.rouge2
        scores.rougeL = rouge.rougeL
      }
    }
    if let gold = q.goldCitations, !gold.isEmpty {
      let cited = citations.map { c in
        let range: ClosedRange<Int>? = if let l = c.lines, l.count == 2, l[0] <= l[1] { l[0]...l[1] } else { nil }
        return AnswerScoring.CitedPlace(path: c.path, lines: range, page: c.page)
      }
      if let s = AnswerScoring.citationScores(cited: cited, gold: gold.map(\.place)) {
        scores.citationPrecision = s.precision
        scores.citationRecall = s.recall
      }
    }
    return scores
  }

  /// The result as one line of JSON (sorted keys).
  public func jsonLine() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  /// Reads a results JSONL file (`tome batch` output).
  public static func readLines(_ url: URL) throws -> [BatchResult] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw BatchInputError(description: "\(url.path): cannot read (\((error as NSError).localizedDescription))")
    }
    var results: [BatchResult] = []
    for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      guard !trimmed.isEmpty else { continue }
      do {
        results.append(try JSONDecoder().decode(BatchResult.self, from: Data(trimmed.utf8)))
      } catch {
        throw BatchInputError(description: "\(url.lastPathComponent):\(i + 1): not a tome batch result (\(BatchInput.jsonProblem(error)))")
      }
    }
    guard !results.isEmpty else { throw BatchInputError(description: "\(url.path): no results") }
    return results
  }
}
