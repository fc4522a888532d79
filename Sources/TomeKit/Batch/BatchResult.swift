public import Foundation
import TomeCore
public import TomeReasoning

/// One line of `tome batch` output: the answer's `AnswerRecord`, its keys at the top level,
/// beside the batch's own fields (`id`, `gold`, `choices`, `gold_citations`, `scores`) and the
/// input's other fields unchanged.
///
/// Flat rather than nested under a key, so a line reads like `tome ask --json` plus the batch
/// fields and one script reads both. The record's keys are always present (null when empty);
/// `gold`, `choices` and `gold_citations` are present when the input had them, and a score
/// when it applies. Input fields named like a record or batch key are left out.
public struct BatchResult: Sendable, Hashable, Codable {
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
  /// The answer.
  public var record: AnswerRecord
  public var gold: [String]?
  public var choices: [String]?
  public var goldCitations: [GoldCitation]?
  public var scores: Scores
  /// Fields of the input line Tome does not know, unchanged.
  public var extra: [String: JSONValue]

  enum CodingKeys: String, CodingKey, CaseIterable {
    case id, gold, choices, scores
    case goldCitations = "gold_citations"
  }

  /// Keys of the record and of the batch: an input field with one of these names is not copied.
  static let reservedKeys = Set(CodingKeys.allCases.map(\.stringValue) + AnswerRecord.CodingKeys.allCases.map(\.stringValue))

  struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public init(from decoder: any Swift.Decoder) throws {
    record = try AnswerRecord(from: decoder)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(JSONValue.self, forKey: .id)
    gold = try c.decodeIfPresent([String].self, forKey: .gold)
    choices = try c.decodeIfPresent([String].self, forKey: .choices)
    goldCitations = try c.decodeIfPresent([GoldCitation].self, forKey: .goldCitations)
    scores = try c.decodeIfPresent(Scores.self, forKey: .scores) ?? Scores()
    let all = try decoder.container(keyedBy: AnyKey.self)
    var extra: [String: JSONValue] = [:]
    for key in all.allKeys where !Self.reservedKeys.contains(key.stringValue) {
      extra[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
    }
    self.extra = extra
  }

  public func encode(to encoder: any Encoder) throws {
    try record.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encodeIfPresent(gold, forKey: .gold)
    try c.encodeIfPresent(choices, forKey: .choices)
    try c.encodeIfPresent(goldCitations, forKey: .goldCitations)
    try c.encode(scores, forKey: .scores)
    var all = encoder.container(keyedBy: AnyKey.self)
    for (key, value) in extra where !Self.reservedKeys.contains(key) {
      try all.encode(value, forKey: AnyKey(stringValue: key))
    }
  }

  /// The result for `question` answered by `answer`, scored against its gold.
  public init(question q: BatchQuestion, answer a: Answer) {
    id = q.id
    record = AnswerRecord(a)
    gold = q.gold
    choices = q.choices
    goldCitations = q.goldCitations
    extra = q.extra
    let cited = a.citedSpans.map { AnswerScoring.CitedPlace(path: $0.path, lines: $0.firstLine...$0.lastLine, page: $0.page) }
    scores = Self.score(answer: a.text, cited: cited, question: q)
  }

  /// Scores of an answer text and the places it cites against the question's gold. Citation
  /// markers are removed from the text before it is compared.
  ///
  /// - Parameter cited: the places the answer cites. `init(question:answer:)` passes the
  ///   model's verified `[n]` markers and Tome's attributions of its unmarked sentences
  ///   (`Answer.citedSpans`): attributions count because the default model rarely writes a
  ///   marker (6 in 200 SQuAD answers), so markers alone scored almost every answer's citation
  ///   recall 0; unverified markers do not, since their passage does not hold what they claim.
  public static func score(answer: String, cited: [AnswerScoring.CitedPlace], question q: BatchQuestion) -> Scores {
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
    if let gold = q.goldCitations, !gold.isEmpty, let s = AnswerScoring.citationScores(cited: cited, gold: gold.map(\.place)) {
      scores.citationPrecision = s.precision
      scores.citationRecall = s.recall
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
