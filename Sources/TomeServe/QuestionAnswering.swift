import Foundation
public import TomeReasoning

/// The seam for `POST /v1/ask`: TomeKit's `Answerer` implements it. A server started
/// without an index has none, and the route answers 404 saying how to give it one.
public protocol QuestionAnswering: Sendable {
  /// Answers `request`; errors become a 500 with the error's description.
  func answer(_ request: AskRequest) async throws -> AnswerRecord
}

/// The body of `POST /v1/ask`. The reply is the question's `AnswerRecord`, the shape
/// `tome ask --json` prints.
public struct AskRequest: Codable, Sendable, Hashable {
  public var question: String
  /// The strategy; nil is the answerer's default (`rag` in `tome serve`).
  public var strategy: StrategyKind?
  /// Index name or path; nil is the server's default index.
  public var index: String?
  public var maxTokens: Int?
  /// Document paths to answer within (`document`: one path or a list, as `tome ask
  /// --document` takes them); nil is the whole collection.
  public var documents: [String]?

  public init(
    question: String, strategy: StrategyKind? = nil, index: String? = nil, maxTokens: Int? = nil, documents: [String]? = nil
  ) {
    self.question = question
    self.strategy = strategy
    self.index = index
    self.maxTokens = maxTokens
    self.documents = documents
  }

  enum CodingKeys: String, CodingKey {
    case question, strategy, index
    case maxTokens = "max_tokens"
    case documents = "document"
  }

  /// Writes `document` as a list (a reader takes a path or a list).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(question, forKey: .question)
    try c.encodeIfPresent(strategy, forKey: .strategy)
    try c.encodeIfPresent(index, forKey: .index)
    try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
    try c.encodeIfPresent(documents, forKey: .documents)
  }

  /// Reads the body. An unknown strategy name throws `RequestProblem` (a 400 listing the
  /// known names, as `tome batch` says it) rather than a decoding error, which would only say
  /// the JSON is not valid.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    question = try c.decode(String.self, forKey: .question)
    index = try c.decodeIfPresent(String.self, forKey: .index)
    maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
    if try !c.contains(.documents) || c.decodeNil(forKey: .documents) {
      documents = nil
    } else if let path = try? c.decode(String.self, forKey: .documents) {
      documents = [path]
    } else if let paths = try? c.decode([String].self, forKey: .documents) {
      documents = paths
    } else {
      throw RequestProblem("`document` must be a path or a list of paths (strings)")
    }
    if let name = try c.decodeIfPresent(String.self, forKey: .strategy) {
      guard let kind = StrategyKind(rawValue: name) else {
        throw RequestProblem(
          "unknown strategy \"\(name)\" in `strategy` (known: \(StrategyKind.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      strategy = kind
    } else {
      strategy = nil
    }
  }

  /// Checks what the request says before anything runs: a question that is not blank, and
  /// `max_tokens` in 1…`contextLength` (a hostile `-9223372036854775808` once trapped the
  /// server in the context budget's arithmetic).
  func validate(contextLength: Int) throws(RequestProblem) {
    guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw RequestProblem("`question` is empty")
    }
    if let documents, documents.isEmpty || documents.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
      throw RequestProblem("`document` must name at least one path, and no path may be empty")
    }
    if let maxTokens, !(1...contextLength).contains(maxTokens) {
      throw RequestProblem("`max_tokens` must be between 1 and \(contextLength) (the model's context), got \(maxTokens)")
    }
  }
}
