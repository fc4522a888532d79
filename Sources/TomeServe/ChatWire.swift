import Foundation
import TomeCore

/// `POST /v1/chat/completions` body (the fields Tome honours; others are ignored).
struct ChatCompletionRequest: Decodable {
  struct Message: Decodable {
    var role: String
    var content: Content
  }

  /// A message's content: a string, or an array of parts of which `text` parts are joined.
  struct Content: Decodable {
    var text: String
    struct Part: Decodable {
      var type: String?
      var text: String?
    }
    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let s = try? container.decode(String.self) {
        text = s
      } else if container.decodeNil() {
        text = ""
      } else {
        text = try container.decode([Part].self).compactMap(\.text).joined()
      }
    }
  }

  /// `stop`: a string or an array of strings.
  struct Stop: Decodable {
    var values: [String]
    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let s = try? container.decode(String.self) { values = [s] } else { values = try container.decode([String].self) }
    }
  }

  var model: String?
  var messages: [Message]
  var max_tokens: Int?
  var max_completion_tokens: Int?
  var temperature: Double?
  var top_p: Double?
  var top_k: Int?
  var stop: Stop?
  var seed: UInt64?
  var stream: Bool?

  /// The messages as `ChatMessage`s; `developer` counts as `system`.
  func chatMessages() throws(RequestProblem) -> [ChatMessage] {
    guard !messages.isEmpty else { throw RequestProblem("`messages` is empty") }
    return try messages.map { m throws(RequestProblem) in
      let role: ChatMessage.Role
      switch m.role {
      case "system", "developer": role = .system
      case "user": role = .user
      case "assistant": role = .assistant
      default: throw RequestProblem("unsupported message role `\(m.role)`")
      }
      return ChatMessage(role: role, content: m.content.text)
    }
  }

  /// The generation parameters, every number range-checked (a 400 names the field).
  func parameters(defaultMaxTokens: Int, contextLength: Int) throws(RequestProblem) -> GenerationParameters {
    for (name, value) in [("max_tokens", max_tokens), ("max_completion_tokens", max_completion_tokens)] {
      if let value, !(1...contextLength).contains(value) {
        throw RequestProblem("`\(name)` must be between 1 and \(contextLength) (the model's context), got \(value)")
      }
    }
    var p = GenerationParameters.greedy(maxTokens: max_completion_tokens ?? max_tokens ?? defaultMaxTokens)
    if let temperature {
      guard temperature >= 0, temperature <= 2 else { throw RequestProblem("`temperature` must be in 0…2") }
      p.temperature = temperature
    }
    if let top_p {
      guard top_p > 0, top_p <= 1 else { throw RequestProblem("`top_p` must be in (0, 1]") }
      p.topP = top_p
    }
    if let top_k {
      guard top_k >= 0 else { throw RequestProblem("`top_k` must be at least 0 (0 = off), got \(top_k)") }
      p.topK = top_k
    }
    p.seed = seed
    p.stop = stop?.values ?? []
    return p
  }
}

/// A client mistake in a request body (→ 400).
struct RequestProblem: Error, Equatable {
  var message: String
  init(_ message: String) { self.message = message }
}

struct ChatCompletion: Encodable {
  struct Choice: Encodable {
    struct Message: Encodable {
      var role = "assistant"
      var content: String
    }
    var index = 0
    var message: Message
    var finish_reason: String
  }
  struct Usage: Encodable {
    var prompt_tokens: Int
    var completion_tokens: Int
    var total_tokens: Int
  }
  var id: String
  var object = "chat.completion"
  var created: Int
  var model: String
  var choices: [Choice]
  var usage: Usage
}

struct ChatCompletionChunk: Encodable {
  struct Choice: Encodable {
    struct Delta: Encodable {
      var role: String?
      var content: String?
    }
    var index = 0
    var delta: Delta
    var finish_reason: String?

    func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(index, forKey: .index)
      try c.encode(delta, forKey: .delta)
      try c.encode(finish_reason, forKey: .finish_reason)  // explicit null, as OpenAI sends
    }
    enum CodingKeys: String, CodingKey { case index, delta, finish_reason }
  }
  var id: String
  var object = "chat.completion.chunk"
  var created: Int
  var model: String
  var choices: [Choice]
}

struct ModelList: Encodable {
  struct Model: Encodable {
    var id: String
    var object = "model"
    var created: Int
    var owned_by = "tome"
  }
  var object = "list"
  var data: [Model]
}

struct ErrorBody: Encodable {
  struct Detail: Encodable {
    var message: String
    var type: String
    var code: String?
  }
  var error: Detail
}
