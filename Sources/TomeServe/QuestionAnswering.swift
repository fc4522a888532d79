import Foundation

/// The seam for `POST /v1/ask`: TomeKit's `Answerer` implements it. A server started
/// without an index has none, and the route answers 404 saying how to give it one.
public protocol QuestionAnswering: Sendable {
  /// Answers `request`; errors become a 500 with the error's description.
  func answer(_ request: AskRequest) async throws -> AskResponse
}

/// The body of `POST /v1/ask`.
public struct AskRequest: Codable, Sendable, Hashable {
  public var question: String
  /// The strategy's command-line name (`rag`, `coc`, …); nil lets the router choose.
  public var strategy: String?
  /// Index name or path; nil is the server's default index.
  public var index: String?
  public var maxTokens: Int?

  public init(question: String, strategy: String? = nil, index: String? = nil, maxTokens: Int? = nil) {
    self.question = question
    self.strategy = strategy
    self.index = index
    self.maxTokens = maxTokens
  }

  enum CodingKeys: String, CodingKey {
    case question, strategy, index
    case maxTokens = "max_tokens"
  }

  /// Checks what the request says before anything runs: a question that is not blank, and
  /// `max_tokens` in 1…`contextLength` (a hostile `-9223372036854775808` once trapped the
  /// server in the context budget's arithmetic).
  func validate(contextLength: Int) throws(RequestProblem) {
    guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw RequestProblem("`question` is empty")
    }
    if let maxTokens, !(1...contextLength).contains(maxTokens) {
      throw RequestProblem("`max_tokens` must be between 1 and \(contextLength) (the model's context), got \(maxTokens)")
    }
  }
}

/// The response of `POST /v1/ask`: the answer with `[n]` markers and what each marker cites.
public struct AskResponse: Codable, Sendable, Hashable {
  public struct Source: Codable, Sendable, Hashable {
    /// The `n` of `[n]` in the answer.
    public var marker: Int
    public var path: String
    public var firstLine: Int
    public var lastLine: Int

    public init(marker: Int, path: String, firstLine: Int, lastLine: Int) {
      self.marker = marker
      self.path = path
      self.firstLine = firstLine
      self.lastLine = lastLine
    }

    enum CodingKeys: String, CodingKey {
      case marker, path
      case firstLine = "first_line"
      case lastLine = "last_line"
    }
  }

  public var answer: String
  public var sources: [Source]

  public init(answer: String, sources: [Source]) {
    self.answer = answer
    self.sources = sources
  }
}
