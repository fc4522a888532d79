public import Foundation
public import TomeCore
import TomeLLM
public import TomeModel

/// Where the chat model comes from: the in-process GGUF runtime or an OpenAI-compatible server.
public enum LanguageModelSource: Sendable, Hashable {
  /// A GGUF file run in process; nil is the default model in the model directory. The chat
  /// template is detected from the file unless `template` names it.
  case local(file: URL?, template: ChatTemplate.Format? = nil)
  /// An OpenAI-compatible server at a base URL (`http://host:port`), with the `model` to ask
  /// for, the name of the environment variable holding its bearer token, and how long it may
  /// stay silent before the request fails.
  case endpoint(URL, model: String?, tokenVariable: String?, idleTimeout: Duration = .seconds(60))

  /// Builds the model. Reads the token variable from `environment` (the CLI passes the
  /// process environment; libraries never read it themselves).
  ///
  /// - Throws: `ModelError` when a local model file is missing or corrupt; `LLMSourceError`
  ///   when the token variable is named but unset.
  public func load(models: ModelDirectory, environment: [String: String]) throws -> any LanguageModel {
    switch self {
    case .local(let file, let template):
      return try models.loadChatModel(file: file, template: template?.template)
    case .endpoint(let url, let model, let tokenVariable, let idleTimeout):
      var token: String?
      if let tokenVariable {
        guard let value = environment[tokenVariable], !value.isEmpty else {
          throw LLMSourceError(description: "the environment variable \(tokenVariable) (bearer token for \(url.absoluteString)) is not set")
        }
        token = value
      }
      return OpenAIClient(configuration: .init(baseURL: url, model: model, token: token, idleTimeout: idleTimeout))
    }
  }
}

/// A model source that cannot be used as given.
public struct LLMSourceError: Error, CustomStringConvertible, Sendable {
  public var description: String
}
