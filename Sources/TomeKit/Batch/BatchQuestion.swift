public import Foundation
import TomeCore
import TomeIngest
public import TomeReasoning

/// Any JSON value, kept as read so fields Tome does not know pass through unchanged.
public enum JSONValue: Sendable, Hashable, Codable {
  case string(String)
  case integer(Int64)
  case number(Double)
  case bool(Bool)
  case null
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: any Swift.Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let i = try? c.decode(Int64.self) {
      self = .integer(i)
    } else if let d = try? c.decode(Double.self) {
      self = .number(d)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .string(let s): try c.encode(s)
    case .integer(let i): try c.encode(i)
    case .number(let d): try c.encode(d)
    case .bool(let b): try c.encode(b)
    case .null: try c.encodeNil()
    case .array(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    }
  }

  /// The text of a string or number (`7`, `"q7"`); nil for other kinds.
  public var scalarText: String? {
    switch self {
    case .string(let s): s
    case .integer(let i): String(i)
    case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    default: nil
    }
  }
}

/// A gold citation: the file (relative paths match by suffix) and its lines and/or page.
public struct GoldCitation: Sendable, Hashable, Codable {
  public var path: String
  /// `[first, last]`, 1-based and inclusive.
  public var lines: [Int]?
  public var page: Int?

  public init(path: String, lines: ClosedRange<Int>? = nil, page: Int? = nil) {
    self.path = path
    self.lines = lines.map { [$0.lowerBound, $0.upperBound] }
    self.page = page
  }

  var place: AnswerScoring.CitedPlace {
    let range: ClosedRange<Int>? =
      if let lines, let first = lines.first, let last = lines.last, first <= last { first...last } else { nil }
    return AnswerScoring.CitedPlace(path: path, lines: range, page: page)
  }
}

/// One question of a batch input file (one JSONL line).
public struct BatchQuestion: Sendable, Hashable {
  /// The id as written (string or number); `key` is its text.
  public var id: JSONValue
  public var key: String
  /// 1-based line in the input file.
  public var line: Int
  public var question: String
  public var gold: [String]?
  /// Multiple choice options; then `gold` names the right one(s) by letter or text.
  public var choices: [String]?
  public var goldCitations: [GoldCitation]?
  /// The strategy for this question (the job's default when nil).
  public var strategy: StrategyKind?
  /// Document paths to answer within (`document`: one path or a list; nil: the whole
  /// collection). Resolved against the index when the job opens (`Collection.documentIDs`).
  public var documents: [String]?
  /// Every other field, passed to the output line unchanged.
  public var extra: [String: JSONValue]

  /// Field names the input format defines (everything else passes through).
  public static let knownFields: Set<String> = ["id", "question", "gold", "choices", "gold_citations", "strategy", "document"]

  public init(
    id: JSONValue, line: Int, question: String, gold: [String]? = nil, choices: [String]? = nil,
    goldCitations: [GoldCitation]? = nil, strategy: StrategyKind? = nil, documents: [String]? = nil,
    extra: [String: JSONValue] = [:]
  ) {
    self.id = id
    self.key = id.scalarText ?? ""
    self.line = line
    self.question = question
    self.gold = gold
    self.choices = choices
    self.goldCitations = goldCitations
    self.strategy = strategy
    self.documents = documents
    self.extra = extra
  }
}

/// A line of the input that could not be used, with why.
public struct BatchInputProblem: Sendable, Hashable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var message: String
  public var description: String { "\(file):\(line): \(message)" }
}

/// A batch input that cannot be run at all.
public struct BatchInputError: Error, Sendable, CustomStringConvertible {
  public var description: String

  public init(description: String) {
    self.description = description
  }
}

/// A batch input file: its questions in order, the lines that were skipped, and the digest
/// of its bytes (part of the job key).
public struct BatchInput: Sendable {
  public var name: String
  public var questions: [BatchQuestion]
  public var problems: [BatchInputProblem]
  /// SHA-256 (hex) of the file's bytes.
  public var digest: String

  /// Reads and parses `url`.
  ///
  /// - Throws: `BatchInputError` when the file cannot be read, is empty, has no usable
  ///   question, or repeats an id (before anything runs).
  public static func read(_ url: URL) throws -> BatchInput {
    let data: Data
    if let problem = RegularFile.problem(url.path) { throw BatchInputError(description: "\(url.path): \(problem)") }
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw BatchInputError(description: "\(url.path): cannot read (\((error as NSError).localizedDescription))")
    }
    return try parse(data, name: url.lastPathComponent)
  }

  /// Parses JSONL bytes; `name` is used in messages.
  public static func parse(_ data: Data, name: String) throws -> BatchInput {
    var hash = SHA256()
    hash.update(data)
    let digest = hash.finalize()
    let text = String(decoding: data, as: UTF8.self)
    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw BatchInputError(description: "\(name): empty file: expected one JSON question per line")
    }
    var questions: [BatchQuestion] = []
    var problems: [BatchInputProblem] = []
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !line.isEmpty else { continue }
      switch question(line, number: index + 1) {
      case .success(let q): questions.append(q)
      case .failure(let p): problems.append(BatchInputProblem(file: name, line: index + 1, message: p.description))
      }
    }
    var firstLine: [String: Int] = [:]
    var duplicates: [String] = []
    for q in questions {
      if let first = firstLine[q.key] {
        duplicates.append("\"\(q.key)\" on lines \(first) and \(q.line)")
      } else {
        firstLine[q.key] = q.line
      }
    }
    if !duplicates.isEmpty {
      let shown = duplicates.prefix(5).joined(separator: ", ") + (duplicates.count > 5 ? ", …" : "")
      throw BatchInputError(description: "\(name): duplicate ids: \(shown); ids must be unique")
    }
    return BatchInput(name: name, questions: questions, problems: problems, digest: digest)
  }

  static func question(_ line: String, number: Int) -> Result<BatchQuestion, BatchInputError> {
    func fail(_ m: String) -> Result<BatchQuestion, BatchInputError> { .failure(BatchInputError(description: m)) }
    let value: JSONValue
    do {
      value = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
    } catch {
      return fail("not valid JSON (\(jsonProblem(error)))")
    }
    guard case .object(let object) = value else { return fail("not a JSON object") }
    guard let id = object["id"] else { return fail("missing id") }
    guard case .some = id.scalarText, id != .null else { return fail("id must be a string or a number") }
    guard case .string(let question)? = object["question"],
      !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    else { return fail("missing question") }
    func strings(_ field: String) -> Result<[String]?, BatchInputError> {
      switch object[field] {
      case nil, .null?: return .success(nil)
      case .string(let s)?: return .success([s])
      case .array(let items)?:
        let texts = items.compactMap(\.scalarText)
        guard texts.count == items.count else { return .failure(BatchInputError(description: "\(field) must be a list of strings")) }
        return .success(texts)
      default: return .failure(BatchInputError(description: "\(field) must be a list of strings"))
      }
    }
    let gold: [String]?
    let choices: [String]?
    switch (strings("gold"), strings("choices")) {
    case (.failure(let e), _), (_, .failure(let e)): return .failure(e)
    case (.success(let g), .success(let c)):
      gold = g
      choices = c
    }
    var citations: [GoldCitation]?
    if let raw = object["gold_citations"], raw != .null {
      do {
        citations = try JSONDecoder().decode([GoldCitation].self, from: JSONEncoder().encode(raw))
      } catch {
        return fail("gold_citations must be a list of {path, lines: [first, last], page}")
      }
      for c in citations ?? [] {
        if let lines = c.lines, lines.count != 2 || lines[0] < 1 || lines[1] < lines[0] {
          return fail("gold_citations lines must be [first, last] with 1 ≤ first ≤ last")
        }
        if let page = c.page, page < 1 { return fail("gold_citations page must be at least 1 (got \(page))") }
      }
    }
    var strategy: StrategyKind?
    if let raw = object["strategy"], raw != .null {
      guard case .string(let s) = raw else { return fail("strategy must be a string") }
      guard let kind = StrategyKind(rawValue: s) else {
        return fail("unknown strategy \"\(s)\" (known: \(StrategyKind.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      strategy = kind
    }
    var documents: [String]?
    switch object["document"] {
    case nil, .null?: break
    case .string(let path)?: documents = [path]
    case .array(let items)?:
      var paths: [String] = []
      for item in items {
        guard case .string(let path) = item else { return fail("document must be a path or a list of paths (strings)") }
        paths.append(path)
      }
      documents = paths
    default: return fail("document must be a path or a list of paths (strings)")
    }
    if let documents, documents.isEmpty || documents.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
      return fail("document must name at least one path, and no path may be empty")
    }
    let extra = object.filter { !BatchQuestion.knownFields.contains($0.key) }
    return .success(BatchQuestion(
      id: id, line: number, question: question, gold: gold, choices: choices, goldCitations: citations, strategy: strategy,
      documents: documents, extra: extra))
  }

  /// A one-line reason from a JSON decoding error.
  static func jsonProblem(_ error: any Error) -> String {
    if case DecodingError.dataCorrupted(let context) = error {
      let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
      return (underlying ?? context.debugDescription).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
    return "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ").prefix(120).description
  }
}
